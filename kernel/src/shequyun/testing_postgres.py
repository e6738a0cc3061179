"""Put a PostgreSQL test database back the way its template left it, so the next test can have it.

``CREATE DATABASE ... TEMPLATE`` copies the whole template through the WAL and ``DROP DATABASE``
unlinks every file: about 0.3 s of the server's time per test, more than most tests take.
Emptying the few tables a test wrote to takes a few milliseconds. A database is reused only
when that gives exactly what a copy of the template would: nobody else is connected, the
schema is the template's, the rows the migrations wrote are untouched; then every other table
is emptied and every sequence set back. In any other case :class:`TemplateState` says why, and
the caller drops the database instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["TemplateState"]

_USER_NAMESPACES = """
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
"""

# Everything a migration (or a test) could change outside the rows of tables, as text.
_SCHEMA = f"""
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT format('rel %s %s', c.oid::regclass, c.relkind) AS item
    FROM pg_class c WHERE c.relnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT format('col %s %s %s %s %s %s', c.oid::regclass, a.attnum, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT format('idx %s', pg_get_indexdef(indexrelid)) FROM pg_index
    WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN ({_USER_NAMESPACES}))
    UNION ALL
    SELECT format('trg %s %s', pg_get_triggerdef(oid), tgenabled) FROM pg_trigger
    WHERE NOT tgisinternal
    UNION ALL
    SELECT format('view %s %s', oid::regclass, pg_get_viewdef(oid)) FROM pg_class
    WHERE relkind IN ('v', 'm') AND relnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT format('fn %s %s', oid::regprocedure, md5(prosrc)) FROM pg_proc
    WHERE pronamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT format('type %s %s', oid::regtype, typtype) FROM pg_type
    WHERE typnamespace IN ({_USER_NAMESPACES}) AND typrelid = 0
    UNION ALL
    SELECT format('enum %s %s %s', enumtypid::regtype, enumsortorder, enumlabel) FROM pg_enum
    UNION ALL
    SELECT format('ns %s', nspname) FROM pg_namespace WHERE oid IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT format('ext %s %s', extname, extversion) FROM pg_extension
    UNION ALL
    SELECT format('policy %s %s', polrelid::regclass, polname) FROM pg_policy
    UNION ALL
    SELECT format('rule %s %s', ev_class::regclass, rulename) FROM pg_rewrite
    WHERE ev_class IN (SELECT oid FROM pg_class WHERE relnamespace IN ({_USER_NAMESPACES}))
      AND rulename <> '_RETURN'
    UNION ALL
    SELECT format('lo %s', count(*)) FROM pg_largeobject_metadata
    UNION ALL
    SELECT format('setting %s', setconfig) FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS schema
"""

_TABLES = f"""
SELECT c.oid::regclass::text FROM pg_class c
WHERE c.relkind IN ('r', 'p') AND c.relnamespace IN ({_USER_NAMESPACES}) AND NOT c.relispartition
ORDER BY 1
"""

# Foreign keys between two different tables: (referencing, referenced).
_REFERENCES = f"""
SELECT DISTINCT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
WHERE contype = 'f' AND conrelid <> confrelid AND connamespace IN ({_USER_NAMESPACES})
"""

# Tables with triggers of their own that fire on DELETE (an append-only audit log refuses it):
# they are emptied with TRUNCATE, which such triggers do not see.
_DELETE_TRIGGERS = """
SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger
WHERE NOT tgisinternal AND tgtype & 8 <> 0
"""

_SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename), start_value, last_value FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""

#: Beyond this many rows in a table, dropping the database is quicker than DELETE, whose
#: foreign-key checks scan the referencing tables once per row deleted.
MANY_ROWS = 2000

_OTHER_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


@dataclass(frozen=True)
class TemplateState:
    """What a freshly migrated database holds, read from the template once."""

    schema: str
    #: Every table, referencing tables before the tables they reference.
    tables: tuple[str, ...]
    #: Tables the migrations wrote rows to, and those rows (sorted): they must stay as they are.
    rows: dict[str, list[tuple[Any, ...]]]
    #: Of those, the ones no foreign key references: rows a test changed there (a counter such
    #: as the credential epoch) are put back as the migrations wrote them.
    restorable: frozenset[str]
    #: Tables emptied with TRUNCATE, which their own DELETE triggers (append-only) do not see.
    truncated: frozenset[str]
    #: Each sequence's start value and its last value in the template (None: never used).
    sequences: dict[str, tuple[int, int | None]]

    @classmethod
    def read(cls, connection: Connection) -> TemplateState | None:
        """The state of the template behind ``connection``; None when its databases cannot be
        emptied table by table: tables that reference each other in a circle (no order of
        DELETEs works), or a table with DELETE triggers that another table references (TRUNCATE
        would need CASCADE)."""
        tables = list(connection.execute(text(_TABLES)).scalars())
        references = [(a, b) for a, b in connection.execute(text(_REFERENCES))]
        order = _referencing_first(tables, references)
        truncated = frozenset(connection.execute(text(_DELETE_TRIGGERS)).scalars())
        if order is None or truncated & {referenced for _, referenced in references}:
            return None
        rows = {
            table: _rows(connection, table)
            for table in _non_empty(connection, order)  # alembic_version at least
        }
        referenced = {referenced for _, referenced in references}
        return cls(
            schema=connection.execute(text(_SCHEMA)).scalar_one(),
            tables=tuple(order),
            rows=rows,
            restorable=frozenset(
                t
                for t in rows
                if t not in referenced and t not in truncated and t != "alembic_version"
            ),
            truncated=truncated,
            sequences={name: (start, last) for name, start, last in _sequences(connection)},
        )

    def reset(self, connection: Connection) -> str | None:
        """Empty what a test wrote; None when done, else why the database cannot be reused.

        ``connection`` is an ordinary (transactional) connection to the database; the
        emptying commits once, at the end.
        """
        if not _alone(connection):
            return "another session is still connected"
        connection.execute(text("SET lock_timeout = '2s'"))
        if connection.execute(text(_SCHEMA)).scalar_one() != self.schema:
            return "the schema changed"
        restore = []
        for table, rows in self.rows.items():
            if _rows(connection, table) != rows:
                if table not in self.restorable:
                    return f"rows the migrations wrote to {table} changed"
                restore.append(table)
        written = {
            table: many
            for table, many in _non_empty(connection, self.tables).items()
            if table not in self.rows
        }
        if any(many for table, many in written.items() if table not in self.truncated):
            return f"a table holds more than {MANY_ROWS} rows"
        truncate = [t for t in written if t in self.truncated]
        if truncate:
            connection.execute(text(f"TRUNCATE {', '.join(truncate)}"))
        for table in written:
            if table not in self.truncated:
                connection.execute(text(f"DELETE FROM {table}"))
        for table in restore:
            connection.execute(text(f"DELETE FROM {table}"))
            for row in self.rows[table]:
                marks = ", ".join(f":v{i}" for i in range(len(row)))
                connection.execute(
                    text(f"INSERT INTO {table} VALUES ({marks})"),
                    {f"v{i}": value for i, value in enumerate(row)},
                )
        for name, _, last in _sequences(connection):
            start, template_last = self.sequences[name]  # the same sequences: same schema
            if last != template_last:
                connection.execute(
                    text("SELECT setval(:name, :value, :called)"),
                    {
                        "name": name,
                        "value": start if template_last is None else template_last,
                        "called": template_last is not None,
                    },
                )
        connection.commit()
        return None


def _alone(connection: Connection) -> bool:
    """Whether no other client is connected. A closed connection's server process takes a
    moment to go, so wait a little; each look ends its transaction, which would otherwise
    keep showing the same snapshot of the server's sessions."""
    deadline = time.monotonic() + 1
    while True:
        others = connection.execute(text(_OTHER_SESSIONS)).scalar_one()
        connection.rollback()
        if not others:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _non_empty(connection: Connection, tables: tuple[str, ...] | list[str]) -> dict[str, bool]:
    """The tables among ``tables`` that hold rows, in the same order, each with whether it
    holds more than :data:`MANY_ROWS`."""
    if not tables:
        return {}
    probes = " UNION ALL ".join(
        f"SELECT {i}, EXISTS (SELECT FROM {table} OFFSET {MANY_ROWS}) "
        f"WHERE EXISTS (SELECT FROM {table})"
        for i, table in enumerate(tables)
    )
    found: dict[int, bool] = {i: many for i, many in connection.execute(text(probes))}
    return {table: found[i] for i, table in enumerate(tables) if i in found}


def _rows(connection: Connection, table: str) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr
    )


def _sequences(connection: Connection) -> list[tuple[str, int, int | None]]:
    return [(name, start, last) for name, start, last in connection.execute(text(_SEQUENCES))]


def _referencing_first(tables: list[str], references: list[tuple[str, str]]) -> list[str] | None:
    """``tables`` ordered so that each comes before every table it references."""
    referenced_by: dict[str, set[str]] = {table: set() for table in tables}
    for referencing, referenced in references:
        referenced_by.setdefault(referenced, set()).add(referencing)
    order: list[str] = []
    placed: set[str] = set()
    pending = sorted(referenced_by)
    while pending:
        ready = [t for t in pending if referenced_by[t] <= placed]
        if not ready:
            return None
        order.extend(ready)
        placed.update(ready)
        pending = [t for t in pending if t not in placed]
    return order
