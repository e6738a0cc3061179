"""The steps every resident write shares: setting the encrypted phone, the tags and the plugins'
attributes, and the trail a change leaves — one history row per changed field and one audit
entry naming the fields (not their values: those are in the history).

:class:`~.service.ResidentService` (create, update, transfer, remove) and the batch tag change
(:mod:`.batch`) take the same steps from here, so a batch edit leaves what a single edit does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from shequyun_sdk.identity import Actor
from sqlmodel import Session, select

from ..identity import audit
from .crypto import FieldCipher
from .idnumber import mask_phone
from .models import Resident, ResidentChange, ResidentTag

__all__ = [
    "SOURCES",
    "Diff",
    "audit_write",
    "check_source",
    "merged_extra",
    "record_history",
    "set_phone",
    "set_tags",
    "shown",
    "shown_json",
    "shown_masked",
]

#: Where a change came from, as the history and the audit entry record it (``plugin:<name>``
#: too): the portal's pages, the HTTP API, a bulk import, a collection task, a plugin.
SOURCES = {"portal", "api", "import", "plugin", "collection"}

#: One changed field: its name, the value before and the value after, as the history shows them.
Diff = tuple[str, str | None, str | None]


def check_source(source: str) -> str:
    """``source`` if it is one of :data:`SOURCES` or ``plugin:<name>``; else ValueError.

    A write that does not say truthfully where it came from is a bug of its caller, not
    something to record as ``api``."""
    if source in SOURCES or (source.startswith("plugin:") and len(source) > len("plugin:")):
        return source
    raise ValueError(f"unknown source of a resident change: {source!r}")


def set_phone(cipher: FieldCipher, resident: Resident, phone: str | None) -> None:
    """Store ``phone`` encrypted, with its lookup hash and masked form (or clear all three)."""
    if phone:
        resident.phone_enc = cipher.encrypt(phone)
        resident.phone_hash = cipher.lookup_hash(phone)
        resident.phone_masked = mask_phone(phone)
    else:
        resident.phone_enc = resident.phone_hash = resident.phone_masked = None


def set_tags(session: Session, resident_id: int, tags: Iterable[str]) -> None:
    """Replace the resident's tags with ``tags``."""
    for row in session.exec(select(ResidentTag).where(ResidentTag.resident_id == resident_id)):
        session.delete(row)
    session.flush()
    for tag in tags:
        session.add(ResidentTag(resident_id=resident_id, tag=tag))


def merged_extra(extra: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` (attributes by plugin) with ``values`` (``"plugin.name": value``) written over
    it; a None value removes the attribute, and a plugin left with none is dropped."""
    merged = {plugin: dict(attrs) for plugin, attrs in extra.items()}
    for key, value in values.items():
        plugin, name = key.split(".", 1)
        if value is None:
            merged.get(plugin, {}).pop(name, None)
        else:
            merged.setdefault(plugin, {})[name] = value
    return {plugin: attrs for plugin, attrs in merged.items() if attrs}


def record_history(
    session: Session,
    actor: Actor | None,
    resident: Resident,
    source: str,
    diffs: Sequence[Diff],
    unit_id: int | None = None,
) -> None:
    """Add one history row per changed field, at the resident's (new) version."""
    assert resident.id is not None
    check_source(source)
    for field_name, old, new in diffs:
        session.add(
            ResidentChange(
                resident_id=resident.id,
                version=resident.version,
                actor_user_id=actor.user_id if actor else None,
                actor_username=actor.username if actor else None,
                grant_id=actor.grant_id if actor else None,
                unit_id=unit_id if unit_id is not None else resident.unit_id,
                source=source,
                field=field_name,
                old_value=old,
                new_value=new,
            )
        )


def audit_write(
    session: Session,
    actor: Actor | None,
    action: str,
    resident: Resident,
    source: str,
    unit_id: int | None = None,
    **detail: Any,
) -> None:
    """Add the audit entry of one change: ``detail``, where it came from (``source``, as in
    the history) and the resident's new version.

    Rows written by an import are not audited one by one: the import writes one entry for the
    whole file (:mod:`.importing`).
    """
    if check_source(source) == "import":
        return
    audit.record(
        session,
        action,
        actor=actor,
        target_type="resident",
        target_id=resident.id,
        unit_id=unit_id if unit_id is not None else resident.unit_id,
        detail={**detail, "source": source, "version": resident.version},
    )


def shown(value: Any) -> str | None:
    """A value as the history shows it (dates in ISO form)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def shown_masked(value: Any) -> str | None:
    """A sensitive attribute in the history: that it was set, never what to."""
    return None if value is None else "******"


def shown_json(value: Any) -> str | None:
    """An attribute in the history, as JSON."""
    return None if value is None else json.dumps(value, ensure_ascii=False)
