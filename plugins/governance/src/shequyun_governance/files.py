"""Photos and documents on the plugin's records, from the API (ids of uploads already in the
attachment store, claimed) or from a portal form (the files themselves, stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shequyun_sdk import Actor, Platform, UnitRef, ValidationFailed
from sqlmodel import Session

from .core import VIEW

__all__ = ["Upload", "attach"]


@dataclass(frozen=True)
class Upload:
    """A file received in a portal form."""

    filename: str
    data: bytes


def attach(
    platform: Platform,
    session: Session,
    actor: Actor | None,
    *,
    owner_ref: str,
    unit: UnitRef | None,
    ids: Sequence[str] = (),
    uploads: Sequence[Upload] = (),
    accept: tuple[str, ...] = ("image",),
    limit: int = 9,
    field: str = "photos",
) -> list[str]:
    """Claim ``ids`` and store ``uploads`` for record ``owner_ref``; readable by holders of
    ``governance.view`` on ``unit`` (and above). The ids of all of them, in order."""
    if len(ids) + len(uploads) > limit:
        raise ValidationFailed(f"最多 {limit} 个文件", field=field)
    kept: list[str] = []
    if ids:
        refs = platform.claim_attachments(
            session,
            ids,
            actor=actor,
            owner="governance",
            owner_ref=owner_ref,
            unit=unit,
            accept=accept,
            read_permissions=[VIEW],
            field=field,
        )
        kept += [r.id for r in refs]
    for upload in uploads:
        ref = platform.store_attachment(
            session,
            data=upload.data,
            filename=upload.filename,
            owner="governance",
            owner_ref=owner_ref,
            unit=unit,
            actor=actor,
            accept=accept,
            read_permissions=[VIEW],
            field=field,
        )
        kept.append(ref.id)
    return kept
