"""Storing, claiming, reading and pruning attachments: the rules of the attachment store.

See :mod:`shequyun_sdk.attachments` for the model plugins see. The rules in one place:

* a file is checked before anything is kept: not empty, at most ``max_bytes``, and of a kind
  the caller accepts, recognised from its content;
* an *unclaimed* upload is readable by its uploader only; a record claims it (and only files
  its actor uploaded, or files it already owns), which fixes who else may read it;
* readers of a claimed file: anyone when public, the uploader, and holders of one of its
  ``read_permissions`` on its unit — the kernel's scope rule, so a committee's files stay in
  the committee's line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from shequyun_sdk import ApiError, ValidationFailed
from shequyun_sdk.attachments import ATTACHMENT_KINDS, AttachmentRef
from shequyun_sdk.identity import Actor
from sqlalchemy import delete, func
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from . import statements
from .models import Attachment
from .sniff import kind_of, sniff
from .storage import BlobStore, StorageFull

__all__ = ["UNCLAIMED_DAYS", "AttachmentService", "to_ref"]

log = logging.getLogger("shequyun.attachments")

#: Unclaimed uploads older than this are removed by :meth:`AttachmentService.prune`.
UNCLAIMED_DAYS = 7

_ID = re.compile(r"att_[A-Za-z0-9_-]{8,36}")
_KIND_NAMES = {"image": "图片（JPG、PNG、GIF、WEBP、HEIC）", "document": "文档（PDF、DOCX、XLSX）"}
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}


def new_id() -> str:
    return "att_" + secrets.token_urlsafe(16)


def clean_filename(name: str, content_type: str) -> str:
    """A file name safe to show and to send back: no path, no control characters, bounded,
    ending with the extension of what the file really is."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    extension = _extension(content_type)
    stem, dot, given = name.rpartition(".")
    if not dot:
        stem, given = name, ""
    if given.lower() not in {extension, "jpeg" if extension == "jpg" else extension}:
        stem = name
    stem = stem[:100] or "附件"
    return f"{stem}.{extension}"


def _extension(content_type: str) -> str:
    for types in ATTACHMENT_KINDS.values():
        if content_type in types:
            return types[content_type]
    return "bin"


def _accepted_names(accept: Collection[str]) -> str:
    return "或".join(_KIND_NAMES.get(kind, kind) for kind in accept)


class AttachmentService:
    """The attachment store of one kernel."""

    def __init__(self, blobs: BlobStore, max_bytes: int) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes

    # -- checking and keeping -------------------------------------------------------------

    def check(self, data: bytes, accept: Collection[str], field: str) -> str:
        """The content type of ``data``; :class:`ValidationFailed` naming ``field`` if refused."""
        unknown = set(accept) - ATTACHMENT_KINDS.keys()
        if unknown:
            raise ValueError(f"unknown attachment kinds {sorted(unknown)}")
        if not data:
            raise ValidationFailed("文件是空的", field=field)
        if len(data) > self.max_bytes:
            limit = self.max_bytes / (1024 * 1024)
            raise ValidationFailed(
                f"文件太大：{len(data) / (1024 * 1024):.1f} MB，不能超过 {limit:g} MB",
                field=field,
                code="file_too_large",
                status_code=413,
            )
        content_type = sniff(data)
        kind = kind_of(content_type) if content_type else None
        if content_type is None or kind not in accept:
            raise ValidationFailed(
                f"不支持的文件类型：只接受{_accepted_names(accept)}",
                field=field,
                code="unsupported_file_type",
                status_code=415,
            )
        return content_type

    def store(
        self,
        session: Session,
        *,
        data: bytes,
        filename: str,
        actor: Actor | None,
        owner: str | None = None,
        owner_ref: str | None = None,
        unit_id: int | None = None,
        accept: Collection[str] = tuple(ATTACHMENT_KINDS),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "file",
    ) -> Attachment:
        """Check ``data``, keep its content and add its row to ``session``."""
        content_type = self.check(data, accept, field)
        digest = hashlib.sha256(data).hexdigest()
        try:
            self.blobs.put(digest, data)
        except StorageFull as exc:
            log.error("attachment store %s is full: %s", self.blobs.root, exc.strerror)
            raise ApiError(
                "附件存储空间已满，文件未保存；请联系平台管理员",
                field=field,
                code="storage_full",
                status_code=507,
            ) from None
        now = datetime.now(UTC)
        row = Attachment(
            id=new_id(),
            sha256=digest,
            size=len(data),
            content_type=content_type,
            filename=clean_filename(filename, content_type),
            uploaded_by=actor.user_id if actor is not None else None,
            unit_id=unit_id,
            owner=owner,
            owner_ref=owner_ref,
            public=public,
            read_permissions=list(read_permissions),
            created_at=now,
            claimed_at=now if owner is not None else None,
        )
        session.add(row)
        session.flush()
        return row

    # -- reading ----------------------------------------------------------------------------

    def get(self, session: Session, attachment_id: str) -> Attachment | None:
        if not _ID.fullmatch(attachment_id):
            return None
        return session.get(Attachment, attachment_id)

    def can_read(self, session: Session, actor: Actor | None, row: Attachment) -> bool:
        """Whether ``actor`` may read ``row`` (see the module's rules)."""
        if row.owner is not None and row.public:
            return True
        if actor is None:
            return False
        if row.uploaded_by == actor.user_id:
            return True
        if row.owner is None or row.unit_id is None or not row.read_permissions:
            return False
        unit = session.get(OrgUnit, row.unit_id)
        if unit is None:
            return False
        ref = unit_ref(unit)
        return any(scope.can(actor, str(p), ref) for p in row.read_permissions)

    # -- claiming ---------------------------------------------------------------------------

    def claim(
        self,
        session: Session,
        attachment_ids: Iterable[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit_id: int | None,
        accept: Collection[str] = tuple(ATTACHMENT_KINDS),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "attachments",
    ) -> list[Attachment]:
        """Make ``owner``/``owner_ref`` the owner of each file; all or nothing."""
        ids = list(dict.fromkeys(attachment_ids))
        found = {row.id: row for row in self._rows(session, ids)}
        problems = []
        for index, attachment_id in enumerate(ids):
            row = found.get(attachment_id)
            where = f"{field}[{index}]" if len(ids) > 1 else field
            if row is None or not self._claimable(row, actor, owner, owner_ref):
                problems.append(
                    {"field": where, "message": f"附件 {attachment_id} 不存在或不可使用"}
                )
            elif kind_of(row.content_type) not in accept:
                problems.append(
                    {
                        "field": where,
                        "message": f"不支持的文件类型：只接受{_accepted_names(accept)}",
                    }
                )
        if problems:
            raise ValidationFailed(
                problems[0]["message"], field=problems[0]["field"], details=problems
            )
        now = datetime.now(UTC)
        rows = [found[i] for i in ids]
        for row in rows:
            if row.owner is None:
                row.claimed_at = now
            row.owner, row.owner_ref, row.unit_id = owner, owner_ref, unit_id
            row.public = public
            row.read_permissions = list(read_permissions)
            session.add(row)
        session.flush()
        return rows

    def take(
        self,
        session: Session,
        attachment_ids: Sequence[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit_id: int | None,
        public: bool = False,
        read_permissions: Sequence[str] = (),
    ) -> dict[str, str]:
        """Claim what may be claimed of ``attachment_ids`` in one statement and return the
        content type of each file claimed, by id; an id missing from the answer was refused.

        Unlike :meth:`claim` this is not all or nothing: when any id is refused the caller
        must roll back its transaction (the kernel's own records do; plugins use ``claim``).
        """
        values = self.claim_values(
            attachment_ids,
            actor=actor,
            owner=owner,
            owner_ref=owner_ref,
            unit_id=unit_id,
            public=public,
            read_permissions=read_permissions,
        )
        ids = values["ids_array"]  # the well-formed ones, once each
        if not ids:
            return {}
        direct = statements.CLAIM_DIRECT.get(session.connection().dialect.name)
        if direct is not None:
            taken = dict(direct.rows(session, values))
        else:
            rows = session.connection().execute(statements.CLAIM, {"ids": ids, **values})
            taken = {row.id: row.content_type for row in rows}
        self.claimed(session, taken)
        return taken

    @staticmethod
    def claim_values(
        attachment_ids: Sequence[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit_id: int | None,
        public: bool = False,
        read_permissions: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The parameters of ``statements.CLAIM_DIRECT`` that :meth:`take` runs: a hot path
        that writes its own change in one statement on PostgreSQL claims its files in it with
        these (the ids that are not well-formed left out), then hands the rows it claimed to
        :meth:`claimed`."""
        ids = [i for i in dict.fromkeys(attachment_ids) if isinstance(i, str) and _ID.fullmatch(i)]
        return {
            "user_id": actor.user_id if actor is not None else None,
            "w_owner": owner,
            "w_owner_ref": owner_ref,
            "new_owner": owner,
            "new_owner_ref": owner_ref,
            "new_unit_id": unit_id,
            "new_public": public,
            "new_read_permissions": list(read_permissions),
            "now": datetime.now(UTC),
            "ids_array": ids,
            "ids_json": orjson.dumps(ids).decode(),
        }

    @staticmethod
    def claimed(session: Session, ids: Iterable[str]) -> None:
        """After a statement claimed ``ids``: the session's copies of them are stale."""
        _forget(session, ids)

    def release(
        self, session: Session, owner: str, owner_ref: str, *, keep: Collection[str] = ()
    ) -> list[str]:
        """Give back the files ``owner``/``owner_ref`` holds, except ``keep``: each is unclaimed
        again (its uploader's alone) and pruned like any unclaimed upload. Returns their ids."""
        rows = session.connection().execute(
            statements.RELEASE,
            {"w_owner": owner, "w_owner_ref": owner_ref, "keep": list(keep), "no_permissions": []},
        )
        released = [row.id for row in rows]
        _forget(session, released)
        return released

    def _rows(self, session: Session, ids: list[str]) -> Iterable[Attachment]:
        wanted = [i for i in ids if isinstance(i, str) and _ID.fullmatch(i)]
        if not wanted:
            return []
        return session.exec(
            select(Attachment).where(col(Attachment.id).in_(wanted)).with_for_update()
        )

    @staticmethod
    def _claimable(row: Attachment, actor: Actor | None, owner: str, owner_ref: str) -> bool:
        if row.owner is not None:
            return row.owner == owner and row.owner_ref == owner_ref
        return actor is not None and row.uploaded_by == actor.user_id

    # -- housekeeping -----------------------------------------------------------------------

    def prune(self, session: Session, *, older_than: timedelta | None = None) -> tuple[int, int]:
        """Remove unclaimed uploads older than ``older_than`` and content no row refers to.

        Returns ``(rows removed, files removed)``. Content younger than an hour is kept even
        without a row, since its row may be about to commit.
        """
        cutoff = datetime.now(UTC) - (older_than or timedelta(days=UNCLAIMED_DAYS))
        result = session.execute(
            delete(Attachment).where(
                col(Attachment.owner).is_(None), col(Attachment.created_at) < cutoff
            )
        )
        rows = int(getattr(result, "rowcount", 0) or 0)
        session.flush()
        referenced = set(session.exec(select(Attachment.sha256).distinct()))
        young = datetime.now(UTC).timestamp() - 3600
        files = 0
        for digest in list(self.blobs.hashes()):
            path = self.blobs.path(digest)
            if digest not in referenced and path.stat().st_mtime < young:
                self.blobs.delete(digest)
                files += 1
        return rows, files

    def usage(self, session: Session) -> dict[str, int]:
        """How many attachment rows and bytes the store holds (for the operations page)."""
        count, total = session.exec(
            select(func.count(), func.coalesce(func.sum(Attachment.size), 0))
        ).one()
        return {"attachments": int(count), "bytes": int(total)}


def _forget(session: Session, ids: Iterable[str]) -> None:
    """Expire rows of ``ids`` the session holds: a statement changed them behind its back."""
    for attachment_id in ids:
        held = session.identity_map.get(identity_key(Attachment, attachment_id))
        if held is not None:
            session.expire(held)


def to_ref(row: Attachment) -> AttachmentRef:
    """The row as plugins see it."""
    return AttachmentRef(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        kind=kind_of(row.content_type) or "document",
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
        uploaded_by=row.uploaded_by,
        unit_id=row.unit_id,
        owner=row.owner,
        owner_ref=row.owner_ref,
        public=row.public,
        read_permissions=tuple(str(p) for p in row.read_permissions),
    )
