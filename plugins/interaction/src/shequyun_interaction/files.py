"""Files on the plugin's records, kept in the platform's attachment store (SDK calls only).

* 社区公告 and 居务公开 are public content, so their files are public: anyone reads them at the
  kernel's ``/attachments/{id}``. They belong to the publishing unit, with owner ``interaction``
  and ``owner_ref`` ``announcement:12``, or ``disclosure:5:v3`` for the version that first had
  the file. A withdrawn announcement's files stop being public (only holders of
  ``interaction.publish`` on its unit still read them); an expired one's stay public, since it
  was published and is merely no longer current.
* Each version of a disclosure lists its own files (one :class:`~.models.AttachedFile` row per
  version): a new version keeps, adds or drops files, older versions keep theirs, and the public
  history shows what each version had.
* Photos on a request are private to the resident and the committee: the resident sees them
  through the plugin's own route once it checked the request is theirs, cadres holding
  ``interaction.serve`` on the committee at the kernel's URL.

Files arrive two ways: a client uploads them first (``POST /api/v1/attachments``) and names
their ids (``attachments: ["att_…"]``), which :func:`attach` claims for the record; or a page's
multipart form sends them along and :func:`attach` stores them, already claimed. Either way in
the record's own transaction, so a refused file leaves no record behind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shequyun_sdk import Actor, Platform, UnitRef, ValidationFailed
from shequyun_sdk.attachments import AttachmentRef
from sqlalchemy import func
from sqlmodel import Session, col, select

from .core import Errors
from .models import AttachedFile

__all__ = [
    "MAX_NOTICE_FILES",
    "MAX_REQUEST_PHOTOS",
    "OWNER",
    "Upload",
    "as_dicts",
    "attach",
    "attachment_ids",
    "by_version",
    "listed",
    "of",
    "restrict",
]

OWNER = "interaction"
MAX_NOTICE_FILES = 5
MAX_REQUEST_PHOTOS = 3
NOTICE_KINDS = ("image", "document")
PHOTO_KINDS = ("image",)


@dataclass(frozen=True)
class Upload:
    """A file sent along with a form: its name as the browser gave it, and its bytes."""

    filename: str
    data: bytes


def attachment_ids(
    raw: Mapping[str, Any], errors: Errors, field: str = "attachments"
) -> list[str] | None:
    """The uploaded files' ids a JSON body names under ``field`` (None when it names none)."""
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(field, '附件应为已上传文件的编号列表，如 ["att_…"]')
        return []
    return list(dict.fromkeys(v.strip() for v in value))


def attach(
    platform: Platform,
    session: Session,
    *,
    target_type: str,
    target_id: int,
    owner_ref: str,
    unit: UnitRef,
    actor: Actor | None,
    ids: Sequence[str] = (),
    uploads: Sequence[Upload] = (),
    version: int = 1,
    kept: Collection[str] = (),
    public: bool = False,
    read_permissions: Sequence[str] = (),
    accept: Collection[str] = NOTICE_KINDS,
    limit: int = MAX_NOTICE_FILES,
    field: str = "attachments",
    upload_field: str = "files",
) -> list[AttachmentRef]:
    """Place files on a record: ``ids`` uploaded earlier, then ``uploads`` sent with a form.

    An id in ``kept`` is a file the record already holds (a disclosure's earlier version) and
    is listed again as it is; any other id is claimed for ``owner_ref``, so it must be a file
    ``actor`` uploaded and nobody claimed. Every refused id is reported (``attachments[2]``),
    and nothing is kept unless all are accepted. ``limit`` bounds the files of one version.
    """
    already = _count(session, target_type, target_id, version)
    if already + len(ids) + len(uploads) > limit:
        noun = "张照片" if accept == PHOTO_KINDS else "个附件"
        raise ValidationFailed(
            f"最多 {limit} {noun}", field=field if ids else upload_field, code="too_many_files"
        )
    refs: list[AttachmentRef] = []
    problems: list[dict[str, str]] = []
    for index, attachment_id in enumerate(ids):
        where = f"{field}[{index}]"
        found = platform.get_attachment(session, attachment_id) if attachment_id in kept else None
        if found is not None:
            refs.append(found)
            continue
        try:
            refs.extend(
                platform.claim_attachments(
                    session,
                    [attachment_id],
                    actor=actor,
                    owner=OWNER,
                    owner_ref=owner_ref,
                    unit=unit,
                    accept=accept,
                    public=public,
                    read_permissions=read_permissions,
                    field=where,
                )
            )
        except ValidationFailed as exc:
            problems.extend(exc.details or [{"field": where, "message": exc.message}])
    if problems:
        first = problems[0]
        raise ValidationFailed(first["message"], field=first["field"], details=problems)
    for upload in uploads:
        refs.append(
            platform.store_attachment(
                session,
                data=upload.data,
                filename=upload.filename,
                owner=OWNER,
                owner_ref=owner_ref,
                unit=unit,
                actor=actor,
                accept=accept,
                public=public,
                read_permissions=read_permissions,
                field=upload_field,
            )
        )
    for position, ref in enumerate(refs, start=already):
        session.add(
            AttachedFile(
                target_type=target_type,
                target_id=target_id,
                version=version,
                attachment_id=ref.id,
                kind=ref.kind,
                position=position,
            )
        )
    session.flush()
    return refs


def _count(session: Session, target_type: str, target_id: int, version: int) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                AttachedFile.target_type == target_type,
                AttachedFile.target_id == target_id,
                AttachedFile.version == version,
            )
        ).one()
    )


def _rows(session: Session, target_type: str, target_id: int) -> list[AttachedFile]:
    return list(
        session.exec(
            select(AttachedFile)
            .where(AttachedFile.target_type == target_type, AttachedFile.target_id == target_id)
            .order_by(col(AttachedFile.version), col(AttachedFile.position))
        )
    )


def by_version(
    platform: Platform, session: Session, target_type: str, target_id: int
) -> dict[int, list[AttachmentRef]]:
    """The record's files by version, each file read from the store once."""
    seen: dict[str, AttachmentRef | None] = {}
    versions: dict[int, list[AttachmentRef]] = {}
    for row in _rows(session, target_type, target_id):
        if row.attachment_id not in seen:
            seen[row.attachment_id] = platform.get_attachment(session, row.attachment_id)
        ref = seen[row.attachment_id]
        if ref is not None:
            versions.setdefault(row.version, []).append(ref)
    return versions


def listed(
    platform: Platform, session: Session, target_type: str, target_id: int, version: int = 1
) -> list[AttachmentRef]:
    """The files of one record (of one version of it)."""
    return by_version(platform, session, target_type, target_id).get(version, [])


def holds(session: Session, target_type: str, target_id: int, attachment_id: str) -> bool:
    """Whether the record shows the file ``attachment_id`` (in any version)."""
    return (
        session.exec(
            select(AttachedFile.id).where(
                AttachedFile.target_type == target_type,
                AttachedFile.target_id == target_id,
                AttachedFile.attachment_id == attachment_id,
            )
        ).first()
        is not None
    )


def restrict(
    platform: Platform,
    session: Session,
    *,
    target_type: str,
    target_id: int,
    owner_ref: str,
    unit: UnitRef,
    actor: Actor,
    read_permissions: Sequence[str],
) -> int:
    """Stop serving a record's files to everyone: only ``read_permissions`` on ``unit`` now."""
    ids = list(dict.fromkeys(r.attachment_id for r in _rows(session, target_type, target_id)))
    if ids:
        platform.claim_attachments(
            session,
            ids,
            actor=actor,
            owner=OWNER,
            owner_ref=owner_ref,
            unit=unit,
            public=False,
            read_permissions=read_permissions,
        )
    return len(ids)


def as_dicts(
    refs: Sequence[AttachmentRef], url: Callable[[AttachmentRef], str] | None = None
) -> list[dict[str, Any]]:
    """The files as the API shows them; ``url`` where the reader fetches each, if not the
    kernel's (a resident reads a request's photos through the plugin)."""
    return [{**ref.to_dict(), **({"url": url(ref)} if url else {})} for ref in refs]


def of(
    platform: Platform, target_type: str, target_id: int, version: int = 1
) -> list[AttachmentRef]:
    """:func:`listed` in a session of its own."""
    with platform.session() as session:
        return listed(platform, session, target_type, target_id, version)
