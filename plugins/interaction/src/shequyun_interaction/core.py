"""What every part of the plugin shares: permissions, the viewer, text and time helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from shequyun_sdk import Actor, Forbidden, Platform, UnitRef, ValidationFailed
from shequyun_sdk.residents import ResidentRef
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from .models import Account

__all__ = [
    "ASSIST",
    "DELIBERATE",
    "MODERATE",
    "OPERATE",
    "PUBLISH",
    "SERVE",
    "SHANGHAI",
    "VIEW",
    "Errors",
    "Viewer",
    "end_of_day",
    "mask_name",
    "now",
    "upsert",
    "writer_unit",
]

VIEW = "interaction.view"
PUBLISH = "interaction.publish"
SERVE = "interaction.serve"
DELIBERATE = "interaction.deliberate"
MODERATE = "interaction.moderate"
ASSIST = "interaction.assist"
OPERATE = "interaction.operate"

#: The levels of unit whose staff publish announcements and disclosures.
WRITER_LEVELS = ("district", "street", "committee")

SHANGHAI = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 of ``day`` in Beijing time, as an aware UTC datetime."""
    return datetime.combine(day, time(23, 59, 59), SHANGHAI).astimezone(UTC)


def mask_name(name: str) -> str:
    """王秀英 → 王**: neighbours see a surname, not a full name."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else "居民"


@dataclass(frozen=True)
class Viewer:
    """Who is on the resident side of a request.

    ``account`` is the resident's own login (None in assisted mode or when anonymous);
    ``resident`` is their placement, read afresh from the resident database for this request
    (None until verified, or when the record was removed); ``assistant`` is the cadre acting
    for the resident in assisted mode (代办), recorded on everything done.
    """

    account: Account | None = None
    resident: ResidentRef | None = None
    assistant: Actor | None = None

    @property
    def verified(self) -> bool:
        return self.resident is not None

    @property
    def assisted_by(self) -> str | None:
        if self.assistant is None:
            return None
        return f"{self.assistant.display_name}（{self.assistant.username}）"

    @property
    def reader_key(self) -> str | None:
        """How an announcement read is counted: once per resident, else once per account."""
        if self.resident is not None:
            return f"r{self.resident.id}"
        if self.account is not None and self.account.id is not None:
            return f"a{self.account.id}"
        return None


class Errors:
    """Collects every problem with an input, then raises them together (422)."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ValidationFailed(first["message"], field=first["field"], details=self.items)


def text(
    raw: Mapping[str, Any],
    name: str,
    label: str,
    errors: Errors,
    *,
    min_length: int = 1,
    max_length: int = 2000,
    required: bool = True,
) -> str:
    value = raw.get(name)
    value = "" if value is None else value
    if not isinstance(value, str):
        errors.add(name, f"{label}应为文字")
        return ""
    value = value.strip()
    if not value:
        if required:
            errors.add(name, f"请填写{label}")
        return ""
    if len(value) < min_length:
        errors.add(name, f"{label}至少 {min_length} 个字")
    elif len(value) > max_length:
        errors.add(name, f"{label}不能超过 {max_length} 个字")
    return value


def choice(
    raw: Mapping[str, Any], name: str, label: str, options: Mapping[str, str], errors: Errors
) -> str:
    """A key of ``options``, given as the key or its Chinese label."""
    value = raw.get(name)
    if isinstance(value, str):
        value = value.strip()
        if value in options:
            return value
        for key, title in options.items():
            if value == title:
                return key
    errors.add(name, f"请选择{label}（{'、'.join(options.values())}）")
    return ""


def flag(raw: Mapping[str, Any], name: str) -> bool:
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "on", "yes", "是")


def upsert(
    session: Session,
    model: type,
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Mapping[str, Any] | None,
) -> None:
    """INSERT, or on a clash of the unique ``conflict`` columns UPDATE (``update``) or do nothing.

    One statement, so two concurrent writers of the same key leave one row: the database's
    unique constraint decides, not a read-then-write race.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values)
    else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL
        raise RuntimeError(f"no upsert for {dialect}")
    if update:
        statement = statement.on_conflict_do_update(index_elements=list(conflict), set_=update)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement)


def writer_unit(platform: Platform, actor: Actor) -> UnitRef:
    """The unit ``actor`` publishes for (their own, when its staff may publish); 403 otherwise."""
    unit = actor.unit
    if unit is None or unit.level not in WRITER_LEVELS or not platform.can(actor, PUBLISH, unit):
        raise Forbidden("只有区、街镇和居委的工作人员可以发布")
    return unit
