"""A district dashboard of 14 indicators at a million residents vs hand-written GROUP BY queries.

The full run builds Shanghai's demo tree (``identity.demo_data.load``: 徐汇区 has 13 streets and
about 300 committees) and writes 1,000,000 generated residents into 徐汇区's committees with
``residents.generate.bulk_load`` (households, addresses and tags included). It adds a campaign
with a task for every committee of 徐汇区 (about two thirds submitted, most on time) and a
month of garbage-sorting check-ins (``examples/garbage``, switched on for 徐汇区), takes the
snapshot of the last closed week, month and quarter (so the trends have something to read),
and runs ``ANALYZE``.

- ``indicators-district`` — subject: ``kernel.indicators.dashboard`` for a 徐汇区 district
  administrator, the call behind ``GET /api/v1/indicators/units/310104000000`` and the portal's
  dashboard: the fourteen indicators (six of the residents, two of collection, two of the
  garbage app, four of data quality over the findings of a full quality scan), each run as its
  own query over the district's subtree, scoped, grouped by committee and added up the tree in
  Python, plus the tree, pins and a trend per indicator. Baseline: fourteen hand-written queries
  giving the same figures, each grouped directly by street (the district's figure is the
  streets' sum). Both must give the same numbers, or the benchmark fails.

Subject and baseline alternate within each round; medians are reported. PostgreSQL is used,
in a temporary database created on ``SHEQUYUN_BENCH_DATABASE_URL`` or, when unset, on
``postgresql+psycopg://postgres@127.0.0.1:5432`` (dropped afterwards); when no server answers,
SQLite in a temporary directory, and the output says so. ``--quick`` does the same with 20,000
residents and one round.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import Figure, Result, median, reproduce, spread
from bench_residents import (
    DATABASE_VARIABLE,
    DEFAULT_POSTGRES,
    _database_name,
    _reachable,
    _say,
    _shown,
    _temporary_postgres,
)
from sqlalchemy import text

XUHUI = "310104000000"
SEED = 2026
INDICATORS = 14

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Plan:
    residents: int
    rounds: int


FULL = Plan(1_000_000, rounds=7)
QUICK = Plan(20_000, rounds=1)


def run(*, quick: bool = False, postgres_url: str | None = None) -> list[Result]:
    plan = QUICK if quick else FULL
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("indicators", quick=quick)
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-ind-")))
        if _reachable(server):
            url, fallback = stack.enter_context(_temporary_postgres(server)), ""
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
            fallback = f"no PostgreSQL at {_shown(server)}: SQLite instead"
        result = _measure(url, tmp, plan, command)
    if fallback:
        result = Result(
            result.name,
            result.title,
            result.baseline,
            result.subject,
            result.command,
            (fallback, *result.notes),
        )
    return [result]


def _measure(url: str, tmp: Path, plan: Plan, command: str) -> Result:
    import shequyun_garbage

    from shequyun.kernel import Kernel
    from shequyun.residents.generate_bulk import bulk_load
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, data_dir=tmp, inline_worker=False)
    kernel = Kernel(settings, discover=False, plugins=[shequyun_garbage])
    try:
        kernel.upgrade_database()
        database = _database_name(kernel.engine)
        began = time.perf_counter()
        xuhui, streets, committees = _tree(kernel)
        _say(f"writing {plan.residents:,} residents into 徐汇区 with bulk_load on {database}")
        stats = bulk_load(kernel.engine, kernel.residents.cipher, committees, plan.residents, SEED)
        kernel.start(check_migrations=False)
        _campaign(kernel, xuhui, committees)
        _checkins(kernel, xuhui, committees)
        _say("a full data-quality scan, for the quality indicators' findings")
        kernel.quality.scan()
        actor = _district_admin(kernel, xuhui)
        _say("taking the snapshots of the last closed week, month and quarter")
        snapshot_began = time.perf_counter()
        kernel.indicators.take_due_snapshots()
        snapshot_seconds = time.perf_counter() - snapshot_began
        _analyze(kernel)
        setup = time.perf_counter() - began

        baseline = _baseline(kernel, xuhui)
        check = kernel.indicators.dashboard(actor, XUHUI)
        _same_numbers(check, baseline())
        subject_times, baseline_times = [], []
        for _ in range(plan.rounds):
            subject_times.append(_time(lambda: kernel.indicators.dashboard(actor, XUHUI)))
            baseline_times.append(_time(baseline))
    finally:
        kernel.close()
    notes = (
        f"{database}; 徐汇区: {len(streets)} streets, {len(committees)} committees, "
        f"{stats.residents:,} residents in {stats.households:,} households "
        f"(written in {stats.seconds:.0f} s; set-up {setup:.0f} s)",
        f"{INDICATORS} indicators: {', '.join(p.declared.name for p in check.panels)}",
        f"the whole city's snapshot (3 periods x {INDICATORS} indicators) took "
        f"{snapshot_seconds:.1f} s",
        f"subject: IndicatorService.dashboard (tree, {INDICATORS} scoped queries grouped by "
        f"committee, roll-up, {INDICATORS} trends); baseline: {INDICATORS} GROUP BY street "
        "queries; same numbers checked",
    )
    return Result(
        name="indicators-district",
        title=f"徐汇区 dashboard, {INDICATORS} indicators over {stats.residents:,} residents, "
        f"median of {plan.rounds}",
        baseline=_figure("hand-written GROUP BY", baseline_times),
        subject=_figure("dashboard", subject_times),
        command=command,
        notes=notes,
    )


# -- the data -------------------------------------------------------------------------------


def _tree(kernel: Any) -> tuple[Any, list[Any], list[Any]]:
    from sqlmodel import Session, col, select

    from shequyun.identity import demo_data
    from shequyun.identity.models import OrgUnit

    demo_data.load(kernel)
    with Session(kernel.engine, expire_on_commit=False) as session:
        xuhui = session.exec(select(OrgUnit).where(OrgUnit.code == XUHUI)).one()
        below = session.exec(
            select(OrgUnit)
            .where(col(OrgUnit.path).startswith(xuhui.path), col(OrgUnit.id) != xuhui.id)
            .order_by(col(OrgUnit.code))
        ).all()
    streets = [u for u in below if u.level == "street"]
    committees = [u for u in below if u.level == "committee"]
    return xuhui, streets, committees


def _campaign(kernel: Any, xuhui: Any, committees: list[Any]) -> None:
    """A running campaign with a task per committee: two thirds submitted, most on time."""
    from sqlmodel import Session

    from shequyun.collection.models import Campaign, Form, FormVersion, Task

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    with Session(kernel.engine) as session:
        form = Form(title="加装电梯意愿摸底", owner_unit_id=xuhui.id)
        session.add(form)
        session.flush()
        version = FormVersion(form_id=form.id, number=1, schema_={}, status="published")
        session.add(version)
        session.flush()
        campaign = Campaign(
            form_version_id=version.id,
            title="加装电梯意愿摸底",
            publisher_unit_id=xuhui.id,
            starts_at=now - timedelta(days=3),
            deadline=now + timedelta(days=3),
        )
        session.add(campaign)
        session.flush()
        for unit in committees:
            done = rng.random() < 0.66
            session.add(
                Task(
                    campaign_id=campaign.id,
                    unit_id=unit.id,
                    district_id=xuhui.id,
                    street_id=unit.parent_id,
                    status="submitted" if done else "not_started",
                    submitted_at=now if done else None,
                    on_time=(rng.random() < 0.8) if done else None,
                )
            )
        session.commit()


def _checkins(kernel: Any, xuhui: Any, committees: list[Any]) -> None:
    """A garbage-sorting check-in per committee and day, this month and last."""
    from shequyun_garbage.models import CheckIn
    from sqlmodel import Session

    from shequyun.enablement import PluginEnablement

    rng = random.Random(SEED + 1)
    today = _beijing_today()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with Session(kernel.engine) as session:
        session.add(PluginEnablement(plugin="garbage", unit_id=xuhui.id, unit_path=xuhui.path))
        day = first
        while day <= today:
            for unit in committees:
                session.add(
                    CheckIn(
                        unit_id=unit.id,
                        unit_code=unit.code,
                        unit_name=unit.name,
                        day=day,
                        households=rng.randint(30, 400),
                        correct_rate=rng.randint(60, 99),
                        recorded_by="bench",
                    )
                )
            day += timedelta(days=1)
        session.commit()
    kernel.enablement.invalidate()


def _district_admin(kernel: Any, xuhui: Any) -> Any:
    from sqlmodel import Session

    from shequyun.identity.directory import create_user, grant_role

    with Session(kernel.engine, expire_on_commit=False) as session:
        user = create_user(
            session, username="bench.xuhui", display_name="徐汇区管理员", home_unit=xuhui
        )
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.district_admin", unit=xuhui
        )
        session.commit()
    return kernel.authenticator.actor_for(user, grant, xuhui, "session")


def _analyze(kernel: Any) -> None:
    with kernel.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()


# -- the baseline: the same figures, written by hand --------------------------------------------


def _beijing_today() -> date:
    # The indicators count ages and months on Beijing's calendar: from 16:00 UTC on, Beijing
    # is already on the next day, and a baseline on the UTC date put a birthday in another band.
    return datetime.now(BEIJING).date()


def _baseline(kernel: Any, xuhui: Any) -> Callable[[], dict[str, dict[int, Any]]]:
    """Ten queries grouped by street; returns ``{indicator: {street id: figures}}``."""
    today = _beijing_today()
    born_by_60 = _years_before(today, 60)
    bands = [(80, "80+"), (60, "60-79"), (35, "35-59"), (18, "18-34")]
    band_case = " ".join(
        f"WHEN r.birth_date <= '{_years_before(today, age).isoformat()}' THEN '{key}'"
        for age, key in bands
    )
    month_start = today.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    in_xuhui = "c.path LIKE :prefix"
    residents = (
        "FROM kernel_resident r JOIN kernel_org_unit c ON c.id = r.unit_id "
        f"WHERE {in_xuhui} AND r.status = 'active'"
    )
    queries = {
        "residents.population": f"SELECT street, key, count(*) FROM (SELECT c.parent_id AS street, "
        f"CASE {band_case} ELSE '0-17' END AS key {residents}) t GROUP BY street, key",
        "residents.elderly_share": "SELECT c.parent_id, sum(CASE WHEN r.birth_date <= "
        f"'{born_by_60.isoformat()}' THEN 1 ELSE 0 END), count(*) {residents} GROUP BY c.parent_id",
        "residents.registration": f"SELECT c.parent_id, r.registration, count(*) {residents} "
        "GROUP BY c.parent_id, r.registration",
        "residents.tags": "SELECT c.parent_id, t.tag, count(*) FROM kernel_resident_tag t "
        "JOIN kernel_resident r ON r.id = t.resident_id JOIN kernel_org_unit c ON c.id = "
        f"r.unit_id WHERE {in_xuhui} AND r.status = 'active' GROUP BY c.parent_id, t.tag",
        "residents.households": "SELECT c.parent_id, count(DISTINCT r.household_id) "
        f"{residents} AND r.household_id IS NOT NULL GROUP BY c.parent_id",
        "residents.household_size": "SELECT c.parent_id, count(*), count(DISTINCT "
        f"r.household_id) {residents} AND r.household_id IS NOT NULL GROUP BY c.parent_id",
        "collection.completeness": "SELECT t.street_id, sum(CASE WHEN t.status = 'submitted' "
        "THEN 1 ELSE 0 END), count(*) FROM kernel_task t WHERE t.district_id = :district "
        "AND NOT t.withdrawn GROUP BY t.street_id",
        "collection.on_time": "SELECT t.street_id, sum(CASE WHEN t.on_time THEN 1 ELSE 0 END), "
        "count(*) FROM kernel_task t WHERE t.district_id = :district AND NOT t.withdrawn "
        "AND t.status = 'submitted' GROUP BY t.street_id",
        "garbage.households": "SELECT c.parent_id, sum(g.households) FROM garbage_checkin g "
        f"JOIN kernel_org_unit c ON c.id = g.unit_id WHERE {in_xuhui} AND g.day >= :start "
        "AND g.day < :end GROUP BY c.parent_id",
        "garbage.correct_rate": "SELECT c.parent_id, sum(g.households * g.correct_rate / 100.0), "
        "sum(g.households) FROM garbage_checkin g JOIN kernel_org_unit c ON c.id = g.unit_id "
        f"WHERE {in_xuhui} AND g.day >= :start AND g.day < :end GROUP BY c.parent_id",
    }
    queries.update(_quality_queries(kernel, residents, in_xuhui))
    params = {"prefix": xuhui.path + "%", "district": xuhui.id, "start": month_start}
    params["end"] = month_end
    compiled = {name: text(sql) for name, sql in queries.items()}
    keyed = {"residents.population", "residents.registration", "residents.tags"}

    def run() -> dict[str, dict[int, dict[str, tuple[float, float]]]]:
        found: dict[str, dict[int, dict[str, tuple[float, float]]]] = {}
        with kernel.engine.connect() as connection:
            for name, statement in compiled.items():
                streets: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
                for row in connection.execute(statement, params):
                    if name in keyed:
                        streets[int(row[0])][str(row[1])] = (float(row[2]), 0.0)
                    else:
                        base = float(row[2] or 0) if len(row) > 2 else 0.0
                        streets[int(row[0])][""] = (float(row[1] or 0), base)
                found[name] = dict(streets)
        return found

    return run


def _quality_queries(kernel: Any, residents: str, in_xuhui: str) -> dict[str, str]:
    """The data-quality indicators by hand: per resident their findings' flags, per street."""
    from sqlmodel import Session

    from shequyun.quality.service import load_rules

    with Session(kernel.engine) as session:
        rules = load_rules(session)
    incomplete = ", ".join(f"'{r.code}'" for r in rules if r.kind == "completeness")
    stale = ", ".join(f"'{r.code}'" for r in rules if r.kind == "freshness")
    flags = (
        "LEFT JOIN (SELECT resident_id, max(CASE WHEN level = 'error' THEN 1 ELSE 0 END) AS err, "
        f"max(CASE WHEN rule_code IN ({incomplete}) THEN 1 ELSE 0 END) AS inc, "
        f"max(CASE WHEN rule_code IN ({stale}) THEN 1 ELSE 0 END) AS old "
        "FROM kernel_quality_finding GROUP BY resident_id) f ON f.resident_id = r.id"
    )
    joined = residents.replace("WHERE", f"{flags} WHERE", 1)
    return {
        "quality.score": "SELECT c.parent_id, sum(CASE WHEN f.resident_id IS NULL THEN 1.0 "
        f"WHEN f.err = 1 THEN 0.0 ELSE 0.5 END), count(*) {joined} GROUP BY c.parent_id",
        "quality.completeness": "SELECT c.parent_id, sum(CASE WHEN f.inc = 1 THEN 0 ELSE 1 END), "
        f"count(*) {joined} GROUP BY c.parent_id",
        "quality.freshness": "SELECT c.parent_id, sum(CASE WHEN f.old = 1 THEN 0 ELSE 1 END), "
        f"count(*) {joined} GROUP BY c.parent_id",
        "quality.open_errors": "SELECT c.parent_id, count(*) FROM kernel_quality_finding q "
        f"JOIN kernel_org_unit c ON c.id = q.unit_id WHERE {in_xuhui} AND q.level = 'error' "
        "GROUP BY c.parent_id",
    }


def _same_numbers(dashboard: Any, baseline: dict[str, dict[int, Any]]) -> None:
    """The dashboard's streets carry exactly the figures of the hand-written queries."""
    if len(dashboard.panels) != INDICATORS:
        names = [p.declared.name for p in dashboard.panels]
        raise RuntimeError(f"expected {INDICATORS} indicators, the dashboard has {names}")
    for panel in dashboard.panels:
        name, spec = panel.declared.name, panel.declared.spec
        if panel.error:
            raise RuntimeError(f"{name}: {panel.error}")
        for row in panel.children:
            cells = baseline[name].get(row.node.id, {})
            if name in {"residents.population", "residents.tags"}:
                pairs = [(row.by_key.get(k), v) for k, (v, _) in cells.items()]
                if name == "residents.population":
                    pairs.append((row.value, sum(v for v, _ in cells.values())))
            elif name == "residents.registration":
                total = sum(v for v, _ in cells.values())
                pairs = [(row.by_key.get(k), spec.figure(v, total)) for k, (v, _) in cells.items()]
            else:
                value, base = cells.get("", (0.0, 0.0))
                pairs = [(row.value, value)]
                if spec.aggregation == "ratio":
                    pairs.append((row.base, base))
            for got, wanted in pairs:
                if not _close(got, wanted):
                    raise RuntimeError(f"{name} at {row.node.name}: {got} != {wanted}")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _time(work: Callable[[], Any]) -> float:
    began = time.perf_counter()
    work()
    return (time.perf_counter() - began) * 1000


def _figure(label: str, values: list[float]) -> Figure:
    return Figure(label, median(values), "ms", spread(values, " ms"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 residents, one round")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"the PostgreSQL server to create the temporary database on ({DEFAULT_POSTGRES})",
    )
    args = parser.parse_args(argv)
    for result in run(quick=args.quick, postgres_url=args.postgres):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
