"""What a file really is, read from its first bytes (never from its name or declared type)."""

from __future__ import annotations

import io
import zipfile

from shequyun_sdk.attachments import ATTACHMENT_KINDS

__all__ = ["kind_of", "sniff"]

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(data: bytes) -> str | None:
    """The content type of ``data`` among the types the store knows, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return None


def _office(data: bytes) -> str | None:
    """DOCX or XLSX by the parts listed in the zip's directory (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return _DOCX
    if "xl/workbook.xml" in names:
        return _XLSX
    return None


def kind_of(content_type: str) -> str | None:
    """The kind (``image``, ``document``) a content type belongs to."""
    for kind, types in ATTACHMENT_KINDS.items():
        if content_type in types:
            return kind
    return None
