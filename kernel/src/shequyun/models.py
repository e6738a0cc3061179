"""The tables every active plugin declared through ``register_models``, checked.

A plugin's tables must be SQLModel table classes named ``<plugin>_*`` (the kernel's own are
``kernel_*``). :func:`model_drift` compares them with the migrated database, so that a model
changed without a migration is caught by ``shequyun db check`` rather than in production.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Engine

from .plugin_host import PluginHost

__all__ = ["collect_tables", "model_drift"]


def collect_tables(host: PluginHost) -> dict[str, list[Table]]:
    """Each active plugin's tables; a plugin returning anything else is marked failed."""
    tables: dict[str, list[Table]] = {}
    for record, models in host.collect("register_models"):
        prefix = "kernel_" if record.builtin else f"{record.name}_"
        found: list[Table] = []
        try:
            for model in models:
                table = getattr(model, "__table__", None)
                if not isinstance(table, Table):
                    raise ValueError(f"{model!r} is not a SQLModel table class")
                if not table.name.startswith(prefix):
                    raise ValueError(f"table {table.name!r} must be named {prefix}*")
                found.append(table)
        except (TypeError, ValueError) as exc:
            host.fail(record.name, f"register_models: {exc}")
            continue
        tables[record.name] = found
    return tables


def model_drift(engine: Engine, tables: dict[str, list[Table]]) -> list[str]:
    """Differences between the declared tables and the database, one line each.

    An index declared for one database only (``info={"only_on": "postgresql"}``, with the
    matching ``ddl_if``) is compared on that database only."""
    metadata = MetaData()
    for plugin_tables in tables.values():
        for table in plugin_tables:
            copied = table.to_metadata(metadata)  # (which does not copy an index's info)
            elsewhere = {
                index.name
                for index in table.indexes
                if index.info.get("only_on", engine.dialect.name) != engine.dialect.name
            }
            for index in [i for i in copied.indexes if i.name in elsewhere]:
                copied.indexes.discard(index)
    names = set(metadata.tables)

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return name in names
        return True

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        diffs = compare_metadata(context, metadata)
    return [_describe(diff) for diff in diffs]


def _describe(diff: Any) -> str:
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(_describe(d) for d in diff)
    kind = diff[0]
    rest = [getattr(x, "name", x) for x in diff[1:]]
    return f"{kind}: {', '.join(str(r) for r in rest if r is not None)}"
