"""Answers as a spreadsheet reader reads them: Beijing time, 是/否, choices joined with 、, and
a table's rows as numbered lines with their column labels (never Python's ``{'a': 1}``).

A table can also be exported one spreadsheet row per table row (:func:`table_rows`): the
committee's other answers repeat on each row, the table's columns get a column each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = ["BEIJING", "beijing_time", "cell", "table_rows"]

BEIJING = timezone(timedelta(hours=8))

Parts = Sequence[tuple[str, str]]  # (field name, label) of a table's columns or a group's fields


def beijing_time(moment: datetime | None) -> str:
    """``2026-12-06 15:47:25``: the time in Beijing, to the second, as people write it."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored in UTC (SQLite hands it back without the zone)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(_scalar(v)) for v in value)
    if value is None:
        return ""
    if isinstance(value, str) and value[:1].isdigit() and "T" in value and ":" in value:
        try:  # a date-time answer (stored with its offset) in Beijing time
            return beijing_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def _pairs(value: Mapping[str, Any], parts: Parts) -> str:
    labelled = [
        f"{label}：{_scalar(value.get(name))}"
        for name, label in parts
        if value.get(name) not in (None, "", [])
    ]
    known = {name for name, _label in parts}
    labelled += [f"{k}：{_scalar(v)}" for k, v in value.items() if k not in known and v]
    return "；".join(labelled)


def cell(value: Any, parts: Parts = ()) -> Any:
    """One answer in one cell: a table's rows as ``1）姓名：王小明；关系：子女`` lines, a
    group's or address's fields labelled, lists joined with 、, booleans as 是/否."""
    if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        return "\n".join(
            f"{number}）{_pairs(row, parts) if isinstance(row, Mapping) else _scalar(row)}"
            for number, row in enumerate(value, start=1)
        )
    if isinstance(value, Mapping):
        return _pairs(value, parts)
    return _scalar(value)


def table_rows(value: Any, parts: Parts) -> Iterator[list[Any]]:
    """The rows of a table answer, each as its row number and one cell per column (a table
    left empty gives one empty row, so the committee still has its line)."""
    rows = [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
    if not rows:
        yield ["", *["" for _ in parts]]
        return
    for number, row in enumerate(rows, start=1):
        yield [number, *[cell(row.get(name)) for name, _label in parts]]
