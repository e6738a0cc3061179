"""An attachment's file as an HTTP response: sandboxed, cached by its hash, inline only for
pictures and PDFs. Both the attachments API and the Platform's ``attachment_response`` use it."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import FileResponse, Response

from .models import Attachment
from .service import INLINE_TYPES, AttachmentService

__all__ = ["file_response"]


def file_response(
    service: AttachmentService, row: Attachment, *, download: bool = False
) -> Response:
    """The file's content, sandboxed (the caller has checked that the actor may read it)."""
    path = service.blobs.path(row.sha256)
    inline = row.content_type in INLINE_TYPES and not download
    disposition = "inline" if inline else "attachment"
    fallback = quote(row.filename.encode("ascii", "ignore").decode() or "file")
    headers = {
        "Content-Disposition": (
            f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(row.filename)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{row.sha256}"',
    }
    return FileResponse(path, media_type=row.content_type, headers=headers)
