"""``shequyun backup verify``: does this database, with these keys and this attachment
directory, hold a usable copy of the platform?

Run it on a restored copy before trusting it (and, with ``--json``, on the source when the
backup is taken, to compare counts with ``--expect``). It checks what a dump alone cannot
show: that the data key reads the encrypted ID and phone numbers and their lookup hashes
match (so searches work), and that every attachment row has its file, with a sample
re-hashed. See docs/operations.md, "Backup and restore".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from .attachments.models import Attachment
from .residents.crypto import FieldCipher
from .residents.keycheck import KeyMismatch, check_data_key
from .residents.models import Resident

__all__ = ["Verification", "backup", "verify"]

#: Problems listed one by one; past this many, the rest are counted.
LISTED = 20


@dataclass
class Verification:
    """What :func:`verify` found: row counts per table, what was checked, what is wrong."""

    counts: dict[str, int]
    #: Whether the configured data key reads the database; when it does not, no resident is
    #: decrypted and the first problem says so.
    data_key_fits: bool = True
    residents_checked: int = 0
    attachments_present: int = 0
    attachments_hashed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "data_key_fits": self.data_key_fits,
            "residents_checked": self.residents_checked,
            "attachments_present": self.attachments_present,
            "attachments_hashed": self.attachments_hashed,
            "problems": self.problems,
        }


def verify(kernel: Any, *, sample: int = 50) -> Verification:
    """Count every table of the kernel and the active plugins, decrypt ``sample`` random
    residents, look for every attachment's file and re-hash ``sample`` of them."""
    engine: Engine = kernel.engine
    try:  # first: on a database without a canary yet, this keeps one (a row to count)
        check_data_key(engine, kernel.residents.cipher, kernel.settings)
    except KeyMismatch as exc:
        found = Verification(counts=count_rows(engine, kernel.tables), data_key_fits=False)
        found.problems.append(str(exc))
        # Nothing encrypted can be read (a sample would only repeat it); the files can.
    else:
        found = Verification(counts=count_rows(engine, kernel.tables))
        found.residents_checked = _check_residents(engine, kernel.residents.cipher, sample, found)
    _check_attachments(engine, kernel.attachments.blobs, sample, found)
    return found


def count_rows(engine: Engine, tables: dict[str, list[Any]]) -> dict[str, int]:
    """Rows in each table, by name."""
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in sorted((t for ts in tables.values() for t in ts), key=lambda t: t.name):
            counts[table.name] = connection.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
    return counts


def _check_residents(engine: Engine, cipher: FieldCipher, sample: int, found: Verification) -> int:
    table = Resident.__table__  # type: ignore[attr-defined]
    columns = (table.c.id, table.c.id_number_enc, table.c.id_number_hash)
    phones = (table.c.phone_enc, table.c.phone_hash)
    with engine.connect() as connection:
        rows = connection.execute(
            select(*columns, *phones).order_by(func.random()).limit(sample)
        ).all()
    for row in rows:
        pairs = [("ID number", row.id_number_enc, row.id_number_hash)]
        if row.phone_enc is not None:
            pairs.append(("phone", row.phone_enc, row.phone_hash))
        for what, sealed, lookup in pairs:
            try:
                fits = cipher.lookup_hash(cipher.decrypt(sealed)) == lookup
            except Exception:  # InvalidTag: encrypted under another key
                fits = False
            if not fits:
                _problem(found, f"resident {row.id}: the {what} does not decrypt to its hash")
    return len(rows)


def _check_attachments(engine: Engine, blobs: Any, sample: int, found: Verification) -> None:
    table = Attachment.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.sha256, table.c.size).order_by(func.random())
        ).all()
    for row in rows:
        path: Path = blobs.path(row.sha256)
        if not path.is_file() or path.stat().st_size != row.size:
            _problem(found, f"attachment {row.id}: its file {row.sha256} is missing or cut short")
            continue
        found.attachments_present += 1
        if found.attachments_hashed < sample:
            if hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
                _problem(found, f"attachment {row.id}: its file {row.sha256} has other content")
                continue
            found.attachments_hashed += 1


def _problem(found: Verification, message: str) -> None:
    if len(found.problems) < LISTED:
        found.problems.append(message)
    elif len(found.problems) == LISTED:
        found.problems.append("… more problems not listed")


def compare_counts(found: Verification, expected: dict[str, int]) -> None:
    """Add a problem for each table whose count differs from ``expected`` (an earlier run's)."""
    for name in sorted(set(expected) | set(found.counts)):
        had, has = expected.get(name), found.counts.get(name)
        if had != has:
            found.problems.append(f"table {name}: {has} rows here, {had} in the source")


@click.group()
def backup() -> None:
    """Backups: check that a restored copy is complete and readable."""


@backup.command("verify")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Residents decrypted and attachment files re-hashed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--expect",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON of a run on the source (--json): the counts must be the same.",
)
def verify_command(sample: int, as_json: bool, expect: Path | None) -> None:
    """Check the configured database, keys and attachment directory; exit 1 on any problem."""
    from .cli_support import migrated_kernel

    with migrated_kernel() as kernel:
        found = verify(kernel, sample=sample)
    if expect is not None:
        compare_counts(found, json.loads(expect.read_text(encoding="utf-8"))["counts"])
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    else:
        for name, rows in found.counts.items():
            click.echo(f"{name:<40} {rows:>10}")
        if found.data_key_fits:
            click.echo(f"residents decrypted: {found.residents_checked}")
        else:
            click.echo("residents decrypted: none, the data key does not read this database")
        click.echo(
            f"attachments: {found.attachments_present} files present, "
            f"{found.attachments_hashed} re-hashed"
        )
        for problem in found.problems:
            click.echo(f"problem: {problem}", err=True)
        summary = "verified" if found.ok else f"{len(found.problems)} problem(s)"
        click.echo(summary if found.data_key_fits else f"{summary}, the data key is wrong")
    if not found.ok:
        raise SystemExit(1)
