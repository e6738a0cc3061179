"""Resident tables: residents, households, addresses, tags, history and transfers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

__all__ = [
    "GENDERS",
    "REGISTRATIONS",
    "STATUSES",
    "Address",
    "Household",
    "Resident",
    "ResidentChange",
    "ResidentTag",
    "ResidentTally",
    "ResidentTallyState",
    "ResidentTransfer",
    "address_label",
]

#: 户籍 (registered here), 常住 (living here, registered elsewhere), 流动 (floating population).
REGISTRATIONS = {"huji": "户籍", "changzhu": "常住", "liudong": "流动"}
GENDERS = {"male": "男", "female": "女"}
STATUSES = {"active": "在册", "removed": "已注销"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Address(SQLModel, table=True):
    """A dwelling under a committee: 小区 / 楼栋 / 单元 / 室."""

    __tablename__ = "kernel_address"
    __table_args__ = (
        UniqueConstraint(
            "unit_id", "compound", "building", "entrance", "room", name="uq_kernel_address"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    compound: str = Field(max_length=60)
    building: str = Field(default="", max_length=20)
    entrance: str = Field(default="", max_length=20)
    room: str = Field(default="", max_length=20)

    def label(self) -> str:
        return address_label(self.compound, self.building, self.entrance, self.room)


def address_label(compound: str, building: str, entrance: str, room: str) -> str:
    """An address as people write it: 小区 + 楼栋号楼 + 单元单元 + 室."""
    parts = [compound]
    if building:
        parts.append(f"{building}号楼")
    if entrance:
        parts.append(f"{entrance}单元")
    if room:
        parts.append(f"{room}室")
    return "".join(parts)


class Household(SQLModel, table=True):
    """A household (户): residents living together, usually at one address."""

    __tablename__ = "kernel_household"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    address_id: int | None = Field(default=None, foreign_key="kernel_address.id")
    number: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class Resident(SQLModel, table=True):
    """One person in the resident information base.

    The ID number and phone are stored encrypted (``*_enc``) with a keyed hash (``*_hash``)
    for exact lookup and their masked form (``*_masked``, e.g. ``310***********1234``) for
    display. ``unit_id`` is the committee that currently holds the record; ``extra`` holds
    plugin attributes, namespaced by plugin name. ``version`` increases with every change
    (optimistic concurrency).
    """

    __tablename__ = "kernel_resident"
    __table_args__ = (
        Index("ix_kernel_resident_unit_id", "unit_id", "id"),
        Index("ix_kernel_resident_unit_birth", "unit_id", "birth_date"),
        # One active record per ID number, enforced by the database against concurrent writers.
        Index(
            "uq_kernel_resident_active_id",
            "id_number_hash",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_kernel_resident_id_hash", "id_number_hash"),
        Index("ix_kernel_resident_phone_hash", "phone_hash"),
        # The same person under two records (data quality: duplicates, two active 常住).
        Index("ix_kernel_resident_person", "name", "birth_date"),
        # A household's members (data quality keeps household findings current per update).
        Index("ix_kernel_resident_household", "household_id"),
        # The residents born around an age band's boundary, counted live (see tally.py).
        Index("ix_kernel_resident_birth", "birth_date", "status", "gender", "unit_id"),
        # A name search on PostgreSQL: the name's characters and pairs (k0024, name_search.py).
        Index(
            "ix_kernel_resident_name_grams",
            func.kernel_name_grams(text("name")),
            postgresql_using="gin",
            info={"only_on": "postgresql"},  # models.model_drift compares it there only
        ).ddl_if(dialect="postgresql"),
        # A committee's residents in pinyin order, each page an index walk (collation.py).
        # Migration k0028 builds it with name COLLATE kernel_pinyin; declared by its columns,
        # since reflection (and so ``db check``) sees no collation on an index column.
        Index(
            "ix_kernel_resident_unit_pinyin",
            "unit_id",
            "name",
            "id",
            info={"only_on": "postgresql"},
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id")
    name: str = Field(max_length=50)
    gender: str = Field(max_length=8)
    birth_date: date
    id_number_enc: str = Field(sa_column=Column(Text, nullable=False))
    id_number_hash: str = Field(max_length=64)
    id_number_masked: str = Field(max_length=24)
    phone_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    phone_hash: str | None = Field(default=None, max_length=64)
    phone_masked: str | None = Field(default=None, max_length=24)
    registration: str = Field(max_length=12)
    address_id: int | None = Field(default=None, foreign_key="kernel_address.id")
    household_id: int | None = Field(default=None, foreign_key="kernel_household.id")
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=12)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ResidentTag(SQLModel, table=True):
    """A tag from the managed vocabulary on a resident (独居老人, 低保, ...)."""

    __tablename__ = "kernel_resident_tag"

    resident_id: int = Field(foreign_key="kernel_resident.id", primary_key=True)
    tag: str = Field(max_length=60, primary_key=True, index=True)


class ResidentChange(SQLModel, table=True):
    """One field changed on one resident: the record's history, never edited."""

    __tablename__ = "kernel_resident_change"
    __table_args__ = (Index("ix_kernel_resident_change_resident", "resident_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="kernel_resident.id")
    version: int
    at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64)
    grant_id: int | None = None
    unit_id: int | None = None
    source: str = Field(max_length=20)
    field: str = Field(max_length=80)
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ResidentTransfer(SQLModel, table=True):
    """A move of a resident's record from one committee to another, with its date."""

    __tablename__ = "kernel_resident_transfer"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="kernel_resident.id", index=True)
    from_unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    to_unit_id: int = Field(foreign_key="kernel_org_unit.id")
    effective_on: date
    reason: str = Field(default="", max_length=200)
    actor_user_id: int | None = None
    at: datetime = Field(default_factory=utcnow)


class ResidentTally(SQLModel, table=True):
    """How many active residents a unit's subtree holds, by one measure (see :mod:`.tally`).

    ``measure`` is ``total`` (``key`` empty), ``age`` (``key`` = ``gender:YYYY-MM``, the month
    of birth) or ``tag`` (``key`` = the tag). Every unit from the committee up to the city
    has its rows, so a city's counts are a few rows rather than every resident; a committee
    has no ``age`` rows (its residents' ages are counted live).
    """

    __tablename__ = "kernel_resident_tally"

    unit_id: int = Field(primary_key=True)
    measure: str = Field(primary_key=True, max_length=8)
    key: str = Field(primary_key=True, max_length=80)
    n: int = 0


class ResidentTallyState(SQLModel, table=True):
    """When the tallies were last counted from scratch, and on which org tree.

    ``tree_stamp`` is the newest unit move (``kernel_org_unit_change`` id) they account for:
    a move since then leaves the tallies on the old tree, so readers count live until the
    next rebuild. No row at all: never built (an existing database before its first rebuild).
    """

    __tablename__ = "kernel_resident_tally_state"

    id: int = Field(primary_key=True)
    tree_stamp: int = 0
    built_at: datetime = Field(default_factory=utcnow)
