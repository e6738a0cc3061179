"""Progress, aggregated results, exports and the cursor API of a campaign.

Everything here counts only the tasks the actor may see (the kernel's scope filter), so a
district looking at a city-wide campaign sees its own district, and excludes withdrawn tasks
(committees closed after the campaign opened) so completeness never exceeds 100%. Results and
exports use submitted answers only: a returned submission is left out until resubmitted.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import String, Table, and_, bindparam, false, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from ..direct import DirectStatement
from ..identity import scope
from ..identity.models import OrgUnit
from . import fields
from .campaigns import RESULTS
from .export_cells import beijing_time, cell, table_rows
from .models import Campaign, FormVersion, Task, utcnow
from .tasks import aware

__all__ = ["LEVEL_COLUMNS", "ExportColumns", "aggregate", "export_rows", "progress"]

_UNITS: Table = OrgUnit.__table__  # type: ignore[attr-defined]
LEVEL_COLUMNS = {"district": Task.district_id, "street": Task.street_id, "committee": Task.unit_id}
#: How many files of an attachment question the results show (the export has them all).
FILE_SAMPLES = 12


def task_scope(actor: Actor | None, campaign: Campaign, within: OrgUnit | None) -> Any:
    """The conditions on :class:`Task` for the campaign's tasks the actor may see (within
    ``within``), withdrawn ones left out."""
    conditions = [
        Task.campaign_id == campaign.id,
        Task.withdrawn == False,  # noqa: E712
        scope.scope_filter(actor, RESULTS, Task.unit_id),
    ]
    if within is not None:
        conditions.append(
            col(Task.unit_id).in_(
                select(OrgUnit.id).where(col(OrgUnit.path).startswith(within.path))
            )
        )
    return conditions


def progress(
    session: Session, actor: Actor | None, campaign: Campaign, level: str, within: OrgUnit | None
) -> dict[str, Any]:
    """Completion by district, street or committee, plus the total (one statement)."""
    if level not in LEVEL_COLUMNS:
        raise ValidationFailed("level 应为 district、street 或 committee", field="level")
    reach, scope_value = scope.scope_reach(actor, RESULTS)
    postgres = session.connection().dialect.name == "postgresql"
    statement = _progress_statement(level, reach, within is not None, postgres)
    values: dict[str, Any] = {"campaign_id": campaign.id}
    if reach in ("committee", "subtree"):
        values["scope"] = scope_value
        values["scope_end"] = _prefix_end(scope_value) if reach == "subtree" else None
    if within is not None:
        values["within"] = within.path
        values["within_end"] = _prefix_end(within.path)
    tallies: dict[int | None, Counter[str]] = {}
    names: dict[int, tuple[str, str]] = {}
    for group_id, status, on_time, number, code, name in statement.rows(session, values):
        tally = tallies.setdefault(group_id, Counter())
        tally["expected"] += number
        tally[status] += number
        if status == "submitted" and on_time:
            tally["on_time"] += number
        if group_id is not None and code is not None:
            names[group_id] = (code, name)
    past_deadline = utcnow() > aware(campaign.deadline)
    groups: list[dict[str, Any]] = []
    total: Counter[str] = Counter()
    for group_id, tally in tallies.items():
        counts = {
            key: tally[key]
            for key in ("expected", "not_started", "draft", "submitted", "returned", "on_time")
        }
        counts["late"] = counts["submitted"] - counts["on_time"]
        counts["overdue"] = counts["expected"] - counts["submitted"] if past_deadline else 0
        total.update(counts)
        unit = names.get(group_id) if group_id is not None else None
        groups.append(
            {
                "unit": None if unit is None else {"code": unit[0], "name": unit[1]},
                **counts,
                "completion": _ratio(counts["submitted"], counts["expected"]),
            }
        )
    groups.sort(key=lambda g: g["unit"]["code"] if g["unit"] else "")
    totals: dict[str, float] = {
        k: int(total.get(k, 0))
        for k in (
            "expected",
            "not_started",
            "draft",
            "submitted",
            "returned",
            "on_time",
            "late",
            "overdue",
        )
    }
    totals["completion"] = _ratio(totals["submitted"], totals["expected"])
    return {
        "level": level,
        "deadline": aware(campaign.deadline).isoformat(),
        "groups": groups,
        "total": totals,
    }


@functools.cache
def _progress_statement(level: str, reach: str, within: bool, postgres: bool) -> DirectStatement:
    """:func:`progress`'s statement, built once per level, reach of
    :func:`~shequyun.identity.scope.scope_reach`, whether it is narrowed to a subtree and
    database, and run with ``campaign_id``, ``scope`` and ``scope_end`` (the reach's value and,
    for a subtree, :func:`_prefix_end` of it), ``within`` and ``within_end`` (a path) bound.

    Counted by unit, status and punctuality (a few hundred rows at most) and added up in
    Python: cheaper for the database than a CASE per status on every task. The units' codes
    and names come with the counts (a join on the grouped rows, not on every task), so a
    progress page is one round trip; building the statement anew on every request cost the
    worker more than the database spent counting."""
    group = col(LEVEL_COLUMNS[level])
    unit = col(Task.unit_id)
    conditions = [
        col(Task.campaign_id) == bindparam("campaign_id"),
        col(Task.withdrawn) == false(),
        _subtree(unit, "scope", postgres)
        if reach == "subtree"
        else scope.reach_filter(reach, unit, bindparam("scope")),
    ]
    if within:
        conditions.append(_subtree(unit, "within", postgres))
    counted = (
        core_select(
            group.label("group_id"),
            col(Task.status),
            col(Task.on_time),
            func.count().label("number"),
        )
        .where(*conditions)
        .group_by(group, col(Task.status), col(Task.on_time))
        .subquery("counted")
    )
    units = _UNITS.alias("unit")
    return DirectStatement(
        core_select(
            counted.c.group_id,
            counted.c.status,
            counted.c.on_time,
            counted.c.number,
            units.c.code,
            units.c.name,
        ).select_from(counted.outerjoin(units, units.c.id == counted.c.group_id))
    )


def _subtree(unit_column: Any, name: str, postgres: bool) -> Any:
    """``unit_column`` is a unit whose path starts with the parameter ``name`` (the units of
    :func:`~shequyun.identity.scope.reach_filter`'s subtree).

    On PostgreSQL the prefix is written as the range ``name`` ≤ path < ``name_end`` in the
    operators of the path's ``varchar_pattern_ops`` index, which is what PostgreSQL makes of
    ``LIKE 'prefix%'`` with a constant: psycopg prepares a statement run five times, and the
    prepared (generic) plan of ``LIKE :prefix || '%'`` cannot use the index and read every
    unit of the city instead (1.3-4.9 ms of a district's progress, where the counting took
    about 1 ms)."""
    path = col(OrgUnit.path)
    if postgres:
        within = and_(
            path.op("~>=~")(bindparam(name, type_=String)),
            path.op("~<~")(bindparam(f"{name}_end", type_=String)),
        )
    else:
        within = path.startswith(bindparam(name, type_=String))
    return unit_column.in_(select(OrgUnit.id).where(within))


def _prefix_end(prefix: str) -> str:
    """The first string after every string that starts with ``prefix`` (byte order): the
    upper bound of a prefix as a range."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def overdue(
    session: Session,
    actor: Actor | None,
    campaign: Campaign,
    within: OrgUnit | None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Committees that have not submitted, with their street and district (committee names
    repeat across the city); after the deadline these are overdue."""
    rows = list(
        session.exec(
            select(Task, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
            .where(*task_scope(actor, campaign, within))
            .where(Task.status != "submitted")
            .order_by(col(OrgUnit.path))
            .limit(limit)
        )
    )
    above = {i for t, _u in rows for i in (t.street_id, t.district_id) if i}
    names = _names(session, sorted(above))
    return [
        {
            "task_id": t.id,
            "unit": {"code": u.code, "id": u.id, "name": u.name},
            "street": names.get(t.street_id or 0, ("", ""))[1],
            "district": names.get(t.district_id or 0, ("", ""))[1],
            "status": t.status,
        }
        for t, u in rows
    ]


@dataclass
class _FieldStats:
    answered: int = 0
    values: Counter[str] = field(default_factory=Counter)
    total: float = 0
    minimum: float | None = None
    maximum: float | None = None
    numeric: int = 0
    file_count: int = 0
    files: list[str] = field(default_factory=list)

    def add(self, value: Any) -> None:
        if value is None or value == "" or value == []:
            return
        self.answered += 1
        if isinstance(value, bool):
            self.values["是" if value else "否"] += 1
        elif isinstance(value, int | float):
            self.values[str(value)] += 1  # a choice among numbers (floors 1-8) is a choice too
            self.numeric += 1
            self.total += value
            self.minimum = value if self.minimum is None else min(self.minimum, value)
            self.maximum = value if self.maximum is None else max(self.maximum, value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str | int | float | bool):
                    self.values[str(item)] += 1
        elif isinstance(value, str):
            self.values[value] += 1

    def add_files(self, value: Any) -> None:
        """An answer to an attachment question: counted, and the first few ids kept."""
        ids = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if not ids:
            return
        self.answered += 1
        self.file_count += len(ids)
        self.files += ids[: max(FILE_SAMPLES - len(self.files), 0)]

    def view(self, kind: str) -> dict[str, Any]:
        view: dict[str, Any] = {"answered": self.answered}
        if kind == "file":
            return {**view, "files": self.file_count, "samples": self.files}
        if kind == "number":
            view.update(
                sum=self.total,
                average=(self.total / self.numeric) if self.numeric else None,
                min=self.minimum,
                max=self.maximum,
            )
        elif kind == "choice":
            view["distribution"] = dict(self.values.most_common())
        return view


class ExportColumns:
    """The stable columns of a campaign's form across every version used in its answers."""

    def __init__(self, session: Session, campaign: Campaign) -> None:
        current = session.get(FormVersion, campaign.form_version_id)
        assert current is not None
        versions = list(
            session.exec(
                select(FormVersion)
                .where(FormVersion.form_id == current.form_id, FormVersion.status == "published")
                .order_by(col(FormVersion.number).desc())
            )
        )
        self.by_version = {v.id: v.columns for v in versions}
        self.labels: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        #: The (name, label) of a table's columns or a group's fields, by export column.
        self.parts: dict[str, list[tuple[str, str]]] = {}
        for version in versions:  # newest first: the latest label and kind of a column win
            ui_fields = (version.ui or {}).get("fields", {})
            properties = version.schema_.get("properties") or {}
            for name, column in version.columns.items():
                if column not in self.labels:
                    self.labels[column] = (ui_fields.get(name) or {}).get("label") or name
                    schema = fields.resolve(properties.get(name) or {}, version.schema_)
                    self.kinds[column] = _kind(schema)
                    if fields.kind_of(schema) == "table":
                        self.kinds[column] = "table"
                    self.parts[column] = _parts(name, schema, version.schema_, ui_fields)
        # Oldest first for positions: a column keeps its place, new ones are appended, so a
        # bureau's spreadsheet does not shift when the form gets a new version.
        self.order: list[str] = []
        for version in reversed(versions):
            properties = version.schema_.get("properties") or {}
            names = (version.ui or {}).get("order") or list(properties)
            for name in names:
                position = version.columns.get(name)
                if position is not None and position not in self.order:
                    self.order.append(position)

    def row(self, task: Task, answers: dict[str, Any]) -> dict[str, Any]:
        mapping = self.by_version.get(task.form_version_id) or {}
        return {mapping.get(name, name): value for name, value in answers.items()}


def _parts(
    name: str, schema: Mapping[str, Any], root: Mapping[str, Any], ui_fields: Mapping[str, Any]
) -> list[tuple[str, str]]:
    items = schema.get("items")
    inner = fields.resolve(items, root) if isinstance(items, Mapping) else schema
    properties = inner.get("properties")
    if not isinstance(properties, Mapping):
        return []
    return [
        (child, (ui_fields.get(f"{name}.{child}") or {}).get("label") or child)
        for child in properties
    ]


def _kind(schema: Mapping[str, Any]) -> str:
    if fields.kind_of(schema) in ("attachment", "attachments"):
        return "file"
    if schema.get("type") in ("number", "integer"):
        return "number"
    if "enum" in schema or schema.get("type") == "boolean":
        return "choice"
    items = schema.get("items") or {}
    if schema.get("type") == "array" and isinstance(items, dict) and "enum" in items:
        return "choice"
    return "text"


def _answers(campaign: Campaign, task: Task) -> Iterator[dict[str, Any]]:
    if campaign.mode == "roster":
        for row in task.data.get("rows", []):
            yield {k: v for k, v in row.items() if k != "resident_id"}
    else:
        yield task.data


def aggregate(
    session: Session, actor: Actor | None, campaign: Campaign, level: str, within: OrgUnit | None
) -> dict[str, Any]:
    """Per question and per unit of ``level``: counts, sums, averages and distributions."""
    if level not in LEVEL_COLUMNS:
        raise ValidationFailed("level 应为 district、street 或 committee", field="level")
    columns = ExportColumns(session, campaign)
    group = LEVEL_COLUMNS[level]
    stats: dict[Any, dict[str, _FieldStats]] = defaultdict(lambda: defaultdict(_FieldStats))
    totals: dict[str, _FieldStats] = defaultdict(_FieldStats)
    submissions: Counter[Any] = Counter()
    query = (
        select(group, Task)
        .where(*task_scope(actor, campaign, within))
        .where(Task.status == "submitted")
        .execution_options(yield_per=500)
    )
    for group_id, task in session.exec(query):
        submissions[group_id] += 1
        for answers in _answers(campaign, task):
            for column, value in columns.row(task, answers).items():
                if columns.kinds.get(column) == "file":
                    stats[group_id][column].add_files(value)
                    totals[column].add_files(value)
                    continue
                stats[group_id][column].add(value)
                totals[column].add(value)
    names = _names(session, [g for g in stats if g is not None])

    def questions(per: dict[str, _FieldStats]) -> list[dict[str, Any]]:
        return [
            {
                "column": c,
                "label": columns.labels[c],
                "kind": columns.kinds[c],
                **per.get(c, _FieldStats()).view(columns.kinds[c]),
            }
            for c in columns.order
        ]

    return {
        "level": level,
        "groups": [
            {
                "unit": {"code": names[g][0], "name": names[g][1]} if g in names else None,
                "submissions": submissions[g],
                "questions": questions(stats[g]),
            }
            for g in sorted(stats, key=lambda g: names.get(g, ("",))[0])
        ],
        "total": {"submissions": sum(submissions.values()), "questions": questions(totals)},
    }


def export_rows(
    session: Session,
    actor: Actor | None,
    campaign: Campaign,
    within: OrgUnit | None,
    *,
    site: str = "",
    table: str | None = None,
) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of every submitted answer (one row per committee, or per resident).

    Times are Beijing time; a table's answer is one cell of numbered lines with its column
    labels, or, with ``table`` naming a table's export column, one spreadsheet row per row of
    that table (the other answers repeated, the table's columns a column each). An attachment
    question has its ids in its column, as the API gives them, and the files' addresses in the
    portal (``{site}/attachments/<id>``, one a line) in the column after it, so a spreadsheet
    reader can open them (after logging in, within their scope).
    """
    columns = ExportColumns(session, campaign)
    if table is not None and columns.kinds.get(table) != "table":
        raise ValidationFailed("rows 应为表格题的导出列名", field="rows")
    header = ["区", "街镇", "居村委编码", "居村委", "提交时间", "是否按时"]
    if campaign.mode == "roster":
        header += ["居民编号"]
    for c in columns.order:
        if c == table:
            label = columns.labels[c]
            header += [f"{label}·行号", *[f"{label}·{part}" for _n, part in columns.parts[c]]]
            continue
        header.append(columns.labels[c])
        if columns.kinds[c] == "file":
            header.append(f"{columns.labels[c]}（下载地址）")

    def rows() -> Iterator[list[Any]]:
        units: dict[int, tuple[str, str]] = {}
        query = (
            select(Task)
            .where(*task_scope(actor, campaign, within))
            .where(Task.status == "submitted")
            .order_by(col(Task.id))
            .execution_options(yield_per=500)
        )
        for task in session.exec(query):
            needed = [
                i for i in (task.district_id, task.street_id, task.unit_id) if i and i not in units
            ]
            if needed:
                units.update(_names(session, needed))
            prefix = [
                units.get(task.district_id or 0, ("", ""))[1],
                units.get(task.street_id or 0, ("", ""))[1],
                units[task.unit_id][0],
                units[task.unit_id][1],
                beijing_time(task.submitted_at),
                "是" if task.on_time else "否",
            ]
            raw_rows = task.data.get("rows", []) if campaign.mode == "roster" else [task.data]
            for answers in raw_rows:
                mapped = columns.row(task, {k: v for k, v in answers.items() if k != "resident_id"})
                extra = [answers.get("resident_id")] if campaign.mode == "roster" else []
                before: list[Any] = []
                after: list[Any] = []
                for c in columns.order:
                    if c == table:
                        before, after = after, before
                        continue
                    after.append(cell(mapped.get(c), columns.parts.get(c, ())))
                    if columns.kinds[c] == "file":
                        after.append(_file_links(mapped.get(c), site))
                if table is None:
                    yield prefix + extra + after
                    continue
                # ``before`` now holds the columns before the table, ``after`` those after it
                for line in table_rows(mapped.get(table), columns.parts[table]):
                    yield prefix + extra + before + line + after

    return header, rows()


def _file_links(value: Any, site: str) -> str:
    ids = value if isinstance(value, list) else [value]
    return "\n".join(f"{site}/attachments/{v}" for v in ids if isinstance(v, str) and v)


def _names(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    found = session.exec(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(col(OrgUnit.id).in_(ids))
    )
    return {unit_id: (code, name) for unit_id, code, name in found if unit_id is not None}


def _ratio(done: float, expected: float) -> float:
    return round(done / expected, 4) if expected else 0.0
