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

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session
from starlette.responses import Response

from .identity import Actor, UnitRef

__all__ = ["ATTACHMENT_KINDS", "AttachmentCalls", "AttachmentRef"]

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


class AttachmentCalls(Protocol):
    """Keeping, claiming and serving files (a part of the
    :class:`~shequyun_sdk.platform.Platform`)."""

    def store_attachment(
        self,
        session: Session,
        *,
        data: bytes,
        filename: str,
        owner: str,
        owner_ref: str | None = None,
        unit: UnitRef | None = None,
        actor: Actor | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "file",
    ) -> AttachmentRef:
        """Keep a file your plugin received and return it, already claimed by ``owner``.

        ``data`` is refused with :class:`ValidationFailed` (naming ``field``, in Chinese) when it
        is empty, larger than the ``attachment_max_bytes`` setting, or not of a kind in
        ``accept`` (see :data:`~shequyun_sdk.attachments.ATTACHMENT_KINDS`); the type is read
        from the content, not from ``filename``. ``public`` files are served to anyone,
        others to ``actor`` and to holders of a permission in ``read_permissions`` on
        ``unit``. Identical content is stored once.
        """
        ...

    def get_attachment(self, session: Session, attachment_id: str) -> AttachmentRef | None:
        """The attachment ``attachment_id`` (``att_…``), or None when there is none."""
        ...

    def claim_attachments(
        self,
        session: Session,
        attachment_ids: Iterable[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit: UnitRef | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "attachments",
    ) -> list[AttachmentRef]:
        """Attach uploaded files to your record ``owner_ref``, in ``session``.

        Each id must be a file ``actor`` uploaded and nobody claimed yet, or one already claimed
        by the same ``owner``/``owner_ref`` (saving a record again is harmless); its kind must be
        in ``accept``. Otherwise nothing changes and :class:`ValidationFailed` lists every bad
        id under ``field`` (``field[0]``, ``field[1]`` …): a record can never borrow someone
        else's file. Claiming sets who may read the file (as for :meth:`store_attachment`).
        """
        ...

    def attachment_response(
        self, session: Session, attachment: AttachmentRef, *, download: bool = False
    ) -> Response:
        """A response serving ``attachment``'s content, for a route that checked its reader.

        Images and PDFs are shown inline unless ``download``; the response is sandboxed
        (``Content-Security-Policy: sandbox``, ``nosniff``) so a file can never run script in
        the portal's origin.
        """
        ...
