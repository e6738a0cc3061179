"""Files attached to records: photos of a site visit, a scanned certificate, a PDF notice.

The kernel keeps every file in one attachment store. A file is checked when it arrives — its
size against ``attachment_max_bytes`` and its *content* (not its name or declared type) against
the kinds the caller accepts — and gets an id such as ``att_3QfK2m…`` that records refer to.

Two ways in:

* a client uploads with ``POST /api/v1/attachments`` (multipart, field ``file``); the file is
  **unclaimed** and only its uploader can read it, until a record that refers to it *claims* it
  (:meth:`Platform.claim_attachments`) and so decides who else may read it; unclaimed files are
  pruned after a week;
* a plugin stores a file it received itself (:meth:`Platform.store_attachment`), already claimed.

Who may read a claimed file: everyone when it is ``public``; otherwise its uploader, and any
actor holding one of its ``read_permissions`` on its unit (the kernel's usual scope rule). The
kernel serves it at :attr:`AttachmentRef.url`; a plugin with its own readers (residents, say)
serves it after its own check with :meth:`Platform.attachment_response`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ATTACHMENT_KINDS", "AttachmentRef"]

ATTACHMENT_KINDS: dict[str, dict[str, str]] = {
    "image": {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/gif": "gif",
        "image/webp": "webp",
        "image/heic": "heic",
    },
    "document": {
        "application/pdf": "pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    },
}
"""The kinds of file the store accepts: each kind's content types and their file extension.

Pass kind names as ``accept`` (``("image",)`` for a photo field). Types are recognised from the
file's first bytes, so a renamed executable is refused whatever its name says.
"""


@dataclass(frozen=True)
class AttachmentRef:
    """One stored file as plugins see it.

    ``kind`` is ``image`` or ``document``; ``owner`` is the plugin that claimed the file (None
    while unclaimed) and ``owner_ref`` that plugin's own reference (``task:12``,
    ``announcement:7``). ``unit_id`` is the org unit whose readers may see it.
    """

    id: str
    filename: str
    content_type: str
    kind: str
    size: int
    sha256: str
    created_at: datetime
    uploaded_by: int | None = None
    unit_id: int | None = None
    owner: str | None = None
    owner_ref: str | None = None
    public: bool = False
    read_permissions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str:
        """Where the kernel serves the file to those who may read it."""
        return f"/attachments/{self.id}"

    @property
    def claimed(self) -> bool:
        """Whether a record has claimed the file (see :meth:`Platform.claim_attachments`)."""
        return self.owner is not None

    def to_dict(self) -> dict[str, Any]:
        """The file as the API shows it (no storage details)."""
        return {
            "id": self.id,
            "filename": self.filename,
            "content_type": self.content_type,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "claimed": self.claimed,
            "public": self.public,
        }
