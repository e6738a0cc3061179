"""The latest changes to residents in an actor's scope, and how a change reads to cadres.

The workbench shows :func:`recent_changes`; a resident's page shows its own history
(:meth:`~.reading.ResidentReader.history`) with the same words (:func:`change_row`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select

from ..identity import scope
from ..identity.actors import actor_title
from ..identity.models import User
from .models import GENDERS, REGISTRATIONS, STATUSES, Resident, ResidentChange
from .reading import READ
from .validation import FIELD_TITLES

__all__ = [
    "CHANGE_TITLES",
    "ChangeEntry",
    "change_row",
    "change_title",
    "field_titles",
    "recent_changes",
]

RECENT_ROWS = 40
RECENT_ENTRIES = 10

#: History field names as cadres read them (the service's titles, plus the ones only history has).
CHANGE_TITLES = {
    **FIELD_TITLES,
    "(created)": "新增登记",
    "(reason)": "原因",
    "unit": "所属居委",
    "status": "状态",
}
#: Stored values of coded fields and the words cadres use for them.
VALUE_WORDS = {"gender": GENDERS, "registration": REGISTRATIONS, "status": STATUSES}


@dataclass
class ChangeEntry:
    """One saved change of one resident: several fields written together under one version."""

    resident_id: int
    name: str
    version: int
    at: datetime
    who: str
    source: str
    fields: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def recent_changes(
    session: Session,
    actor: Actor,
    vocabulary: Any = None,
    limit: int = RECENT_ENTRIES,
    plugins: Mapping[str, str] | None = None,
) -> list[ChangeEntry]:
    """The latest changes to residents ``actor`` may read, newest first, grouped by version;
    ``plugins`` (name to title) names the changes a plugin made as itself."""
    rows = session.exec(
        select(ResidentChange, Resident.name, User.display_name)
        .join(Resident, col(Resident.id) == ResidentChange.resident_id)
        .outerjoin(User, col(User.id) == ResidentChange.actor_user_id)
        .where(scope.scope_filter(actor, READ, Resident.unit_id))
        .order_by(col(ResidentChange.id).desc())
        .limit(RECENT_ROWS)
    )
    entries: list[ChangeEntry] = []
    for change, name, display_name in rows:
        last = entries[-1] if entries else None
        if last is None or (last.resident_id, last.version) != (change.resident_id, change.version):
            if len(entries) == limit:
                break
            last = ChangeEntry(
                resident_id=change.resident_id,
                name=name,
                version=change.version,
                at=change.at,
                who=actor_title(change.actor_username, display_name, plugins),
                source=change.source,
            )
            entries.append(last)
        last.fields.insert(
            0, change_row(change.field, change.old_value, change.new_value, vocabulary)
        )
    return entries


def change_row(
    field_name: str, old: str | None, new: str | None, vocabulary: Any = None
) -> tuple[str, str | None, str | None]:
    """``(title, old, new)`` of a history row as cadres read it (男 rather than ``male``)."""
    words = VALUE_WORDS.get(field_name, {})
    return (
        change_title(field_name, vocabulary),
        words.get(old, old) if old is not None else None,
        words.get(new, new) if new is not None else None,
    )


def change_title(field_name: str, vocabulary: Any = None) -> str:
    """The Chinese title of a history field (``attributes.<plugin>.<name>`` included)."""
    if field_name.startswith("attributes.") and vocabulary is not None:
        spec = vocabulary.attributes.get(field_name.removeprefix("attributes."))
        if spec is not None:
            return str(spec.attribute.title)
    return CHANGE_TITLES.get(field_name, field_name)


def field_titles(vocabulary: Any = None) -> dict[str, str]:
    """Every field a resident's history or an audit entry names, with its Chinese title:
    the kernel's and, given the ``vocabulary``, each plugin attribute's."""
    titles = dict(CHANGE_TITLES)
    if vocabulary is not None:
        for key, spec in vocabulary.attributes.items():
            titles[f"attributes.{key}"] = str(spec.attribute.title)
    return titles
