"""政策找人 at a million residents: the compiled policies vs hand-written SQL, and a street's page.

The full run builds Shanghai's demo tree and writes 1,000,000 generated residents into one
district, 浦东新区 (``residents.generate.bulk_load``: households, tags), then records what the
data would hold in practice: the 老年综合津贴 as received by nine in ten of those eligible, and
disability grades and kinds for two in three residents tagged 残疾. Against baselines measured
in the same run:

- ``advisors-district``: every shipped policy evaluated over the district for a district
  administrator — for each policy one query compiled by the plugin from its YAML (through the
  SDK's scope-filtered population, the kernel's scope filter included) counting residents by
  verdict, receiving and clue — vs hand-written SQL giving the same counts (checked equal), one
  statement per policy written for this schema: plain ``CASE`` over the columns, ``EXISTS`` on
  the tags, the same scope subquery on the unit paths;
- ``advisors-street-page``: a street's candidate page (50 cases, masked resident views, the
  reasons of today re-evaluated in SQL, the audit entry) through ``outreach.list_candidates``
  vs the bare ``SELECT`` of the same 50 cases; the time to find the street's candidates
  (``outreach.sync``, one ``INSERT … SELECT`` per policy) is in the notes.

PostgreSQL in a temporary database on ``SHEQUYUN_BENCH_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432``); SQLite when no server answers. ``--quick``
writes 50,000 residents.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread
from bench_residents import _database_name, _reachable, _say, _shown, _temporary_postgres, _tree
from sqlalchemy import text

DATABASE_VARIABLE = "SHEQUYUN_BENCH_DATABASE_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DISTRICT = "310115000000"  # 浦东新区
STREET = "310115004000"  # 潍坊新村街道
SEED = 1616


@dataclass(frozen=True)
class Plan:
    residents: int
    rounds: int
    repeats: int


FULL = Plan(1_000_000, rounds=3, repeats=1)
QUICK = Plan(50_000, rounds=1, repeats=1)


def run(*, quick: bool = False, postgres_url: str | None = None) -> list[Result]:
    plan = QUICK if quick else FULL
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("advisors", quick=quick)
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-adv-")))
        if _reachable(server):
            url = stack.enter_context(_temporary_postgres(server))
        else:
            url = f"sqlite:///{tmp / 'a.db'}"
        return _measure(_kernel(url, tmp / "data"), plan, command)


def _kernel(url: str, data_dir: Path) -> Any:
    import shequyun_advisors

    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, data_dir=data_dir, inline_worker=False)
    kernel = Kernel(settings, discover=False, plugins=[shequyun_advisors])
    kernel.upgrade_database()
    return kernel


def _measure(kernel: Any, plan: Plan, command: str) -> list[Result]:
    from shequyun.residents.generate_bulk import bulk_load

    try:
        database = _database_name(kernel.engine)
        committees = _tree(kernel)
        district = [c for c in committees if c.code.startswith(DISTRICT[:6])]
        _say(f"writing {plan.residents:,} residents into {len(district)} committees of 浦东新区")
        stats = bulk_load(kernel.engine, kernel.residents.cipher, district, plan.residents, SEED)
        kernel.start()
        day = date(2026, 12, 6)
        _prepare(kernel, day)
        admin = _actor(kernel, "identity.district_admin", DISTRICT)
        street_admin = _actor(kernel, "identity.street_admin", STREET)
        _say("timing the district's evaluation")
        timings, checked = _time_district(kernel, admin, day, plan)
        _say("finding the street's candidates and timing its page")
        page, sync_seconds, found = _time_street(kernel, street_admin, plan)
    finally:
        kernel.close()
    loaded = (
        f"{database}; {stats.residents:,} residents in 浦东新区 ({stats.households:,} "
        f"households, {stats.tags:,} tags) written by bulk_load in {stats.seconds:.0f} s"
    )
    per_policy = ", ".join(
        f"{name} {median(timings[f'policy {name}']):.0f}/{median(timings[f'hand {name}']):.0f}"
        for name in checked
    )
    return [
        Result(
            name="advisors-district",
            title=f"all {len(checked)} shipped policies over 浦东新区: compiled vs hand-written "
            f"SQL, median of {plan.rounds} rounds",
            baseline=_figure("hand-written SQL", timings["hand"], "ms"),
            subject=_figure("compiled policies", timings["policy"], "ms"),
            command=command,
            notes=(
                loaded,
                f"ms per policy, compiled/hand-written: {per_policy}",
                "both give the same counts by verdict, receiving and clue (checked each run)",
            ),
        ),
        Result(
            name="advisors-street-page",
            title="a street's candidate page of 50 (潍坊新村街道): list_candidates vs bare SELECT, "
            f"median of {plan.rounds} rounds",
            baseline=_figure("bare SELECT", page["sql"], "ms"),
            subject=_figure("list_candidates", page["page"], "ms"),
            command=command,
            notes=(
                loaded,
                f"finding the street's candidates (outreach.sync, every policy): "
                f"{sync_seconds * 1000:.0f} ms, {found:,} cases",
            ),
        ),
    ]


def _prepare(kernel: Any, day: date) -> None:
    """Receipts for nine in ten eligible for the allowance; grades for two in three 残疾."""
    sixty_five = day.replace(year=day.year - 65)
    sqlite = kernel.engine.dialect.name == "sqlite"
    attributes = (
        "json_object('advisors', json_object('disability_grade', 1 + id % 4, "
        "'disability_type', CASE id % 4 WHEN 0 THEN '肢体' WHEN 1 THEN '精神' "
        "WHEN 2 THEN '视力' ELSE '智力' END))"
    )
    if not sqlite:
        attributes = attributes.replace("json_object(", "json_build_object(")
    with kernel.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO advisors_receipt (policy_id, resident_id, since, source, recorded_by,"
                " recorded_at) SELECT 'sh-elderly-allowance', id, :since, 'bench', '', :now"
                " FROM kernel_resident WHERE registration = 'huji' AND birth_date <= :d"
                " AND id % 10 <> 0"
            ),
            {"since": date(2020, 1, 1), "now": "2026-12-06 00:00:00", "d": sixty_five},
        )
        connection.execute(
            text(
                f"UPDATE kernel_resident SET extra = {attributes} WHERE id % 3 <> 2 AND id IN "
                "(SELECT resident_id FROM kernel_resident_tag WHERE tag = '残疾')"
            )
        )
        if not sqlite:
            connection.execute(text("ANALYZE"))


def _actor(kernel: Any, role: str, code: str) -> Any:
    from sqlmodel import Session, select

    from shequyun.identity.directory import create_user, grant_role
    from shequyun.identity.models import OrgUnit

    with Session(kernel.engine, expire_on_commit=False) as session:
        unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).one()
        user = create_user(
            session,
            username=f"bench.{code}",
            display_name="基准测试",
            home_unit=unit,
            must_change_password=False,
        )
        grant = grant_role(session, kernel.permissions, user=user, role=role, unit=unit)
        session.commit()
        return kernel.authenticator.actor_for(user, grant, unit, "token")


def _time_district(
    kernel: Any, actor: Any, day: date, plan: Plan
) -> tuple[dict[str, list[float]], list[str]]:
    from shequyun_advisors import pool
    from sqlalchemy import func, select
    from sqlmodel import Session

    platform = kernel.platform
    timings: dict[str, list[float]] = {"policy": [], "hand": []}
    with Session(kernel.engine) as session:
        policies = pool.pool(session, day=day)
        district = platform.unit(session, DISTRICT)
        people = platform.resident_population(actor, permission="advisors.view")
        compiled = {p.id: pool.compiled(platform, session, p, people, day) for p in policies}
        path = district.path
    hand = _hand_written(kernel.engine.dialect.name, day)
    checked = [p.id for p in policies if p.id in hand]
    for _ in range(plan.rounds):
        total_policy = total_hand = 0.0
        for policy_id in checked:
            c = compiled[policy_id].columns
            query = select(c.verdict, c.receiving, c.clue, func.count()).group_by(
                c.verdict, c.receiving, c.clue
            )
            with kernel.engine.connect() as connection:
                began = time.perf_counter()
                ours = connection.execute(query).all()
                elapsed = (time.perf_counter() - began) * 1000
                began = time.perf_counter()
                theirs = connection.execute(text(hand[policy_id]), {"path": path + "%"}).all()
                hand_elapsed = (time.perf_counter() - began) * 1000
            if _counts(ours) != _counts(theirs):
                raise RuntimeError(f"{policy_id}: {_counts(ours)} != {_counts(theirs)}")
            timings.setdefault(f"policy {policy_id}", []).append(elapsed)
            timings.setdefault(f"hand {policy_id}", []).append(hand_elapsed)
            total_policy += elapsed
            total_hand += hand_elapsed
        timings["policy"].append(total_policy)
        timings["hand"].append(total_hand)
    return timings, checked


def _counts(rows: Any) -> dict[tuple[int, int, Any], int]:
    return {(int(v), int(r), None if c is None else int(c)): int(n) for v, r, c, n in rows}


def _hand_written(dialect: str, day: date) -> dict[str, str]:
    """The same questions, written by hand for this schema (``:path`` is the district's)."""

    def years(n: int) -> str:
        return f"'{day.replace(year=day.year - n).isoformat()}'"

    def tag(name: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM kernel_resident_tag t WHERE t.resident_id = r.id "
            f"AND t.tag = '{name}')"
        )

    def attr(name: str) -> str:
        if dialect == "sqlite":
            return f"json_extract(r.extra, '$.advisors.{name}')"
        return f"(r.extra -> 'advisors' ->> '{name}')"

    grade = (
        attr("disability_grade")
        if dialect == "sqlite"
        else f"CAST({attr('disability_grade')} AS INTEGER)"
    )
    receipt = (
        "EXISTS (SELECT 1 FROM advisors_receipt x WHERE x.resident_id = r.id "
        "AND x.policy_id = '{}' AND x.ended_on IS NULL)"
    )
    scope = (
        "FROM kernel_resident r WHERE r.status = 'active' AND r.unit_id IN "
        "(SELECT id FROM kernel_org_unit WHERE path LIKE :path)"
    )

    def query(verdict: str, receiving: str, clue: str = "NULL", join: str = "") -> str:
        return (
            f"SELECT {verdict} AS v, CASE WHEN {receiving} THEN 1 ELSE 0 END AS rec, {clue} AS k,"
            f" count(*) {scope.replace('FROM kernel_resident r', 'FROM kernel_resident r ' + join)}"
            " GROUP BY 1, 2, 3"
        )

    huji = "r.registration = 'huji'"
    household = (
        "LEFT JOIN (SELECT household_id, max(birth_date) AS youngest FROM kernel_resident "
        "WHERE status = 'active' AND household_id IS NOT NULL AND unit_id IN (SELECT id FROM "
        "kernel_org_unit WHERE path LIKE :path) GROUP BY household_id) h "
        "ON h.household_id = r.household_id"
    )
    return {
        "sh-elderly-allowance": query(
            f"CASE WHEN {huji} AND r.birth_date <= {years(65)} THEN 3 ELSE 0 END",
            receipt.format("sh-elderly-allowance"),
        ),
        "sh-minimum-living": query(
            f"CASE WHEN NOT {huji} THEN 0 WHEN r.household_id IS NULL THEN 1 ELSE 2 END",
            tag("低保"),
            f"CASE WHEN {tag('低收入')} THEN 3 ELSE 0 END",
        ),
        "disability-living": query(
            f"CASE WHEN {huji} AND {tag('残疾')} AND ({tag('低保')} OR {tag('低收入')}) "
            "THEN 3 ELSE 0 END",
            receipt.format("disability-living"),
        ),
        "disability-care": query(
            f"CASE WHEN NOT {huji} OR NOT {tag('残疾')} THEN 0 "
            f"WHEN {grade} IS NULL THEN 1 WHEN {grade} IN (1, 2) THEN 2 "
            f"WHEN {grade} IN (3, 4) AND {attr('disability_type')} IN ('智力', '精神') THEN 2 "
            f"WHEN {grade} IN (3, 4) AND {attr('disability_type')} IS NULL THEN 1 ELSE 0 END",
            receipt.format("disability-care"),
        ),
        "ltc-assessment": query(
            f"CASE WHEN r.birth_date <= {years(60)} THEN 2 ELSE 0 END",
            f"{attr('care_grade')} IS NOT NULL",
            f"CASE WHEN r.birth_date <= {years(80)} OR {tag('独居老人')} OR {tag('残疾')} "
            "THEN 3 ELSE 0 END",
        ),
        "old-partner": query(
            f"CASE WHEN r.birth_date > {years(80)} THEN 0 WHEN {tag('独居老人')} THEN 3 "
            f"WHEN h.youngest IS NULL THEN 1 WHEN h.youngest <= {years(60)} THEN 3 ELSE 0 END",
            receipt.format("old-partner"),
            join=household,
        ),
        "tekun-support": query(
            f"CASE WHEN {huji} AND (r.birth_date <= {years(60)} OR {tag('残疾')} "
            f"OR r.birth_date > {years(16)}) THEN 2 ELSE 0 END",
            tag("特困人员"),
            f"CASE WHEN {tag('孤寡老人')} THEN 3 ELSE 0 END",
        ),
        "childcare-subsidy": query(
            f"CASE WHEN r.birth_date > {years(3)} THEN 2 ELSE 0 END",
            receipt.format("childcare-subsidy"),
        ),
    }


def _time_street(kernel: Any, actor: Any, plan: Plan) -> tuple[dict[str, list[float]], float, int]:
    from shequyun_advisors import funnel, outreach, pool
    from sqlmodel import Session

    platform = kernel.platform
    with Session(kernel.engine) as session:
        street = platform.unit(session, STREET)
        began = time.perf_counter()
        found = outreach.sync(platform, session, actor, street, pool.pool(session))
        session.commit()
        sync_seconds = time.perf_counter() - began
        committees = funnel.committee_ids(platform, session, street)
    bare = text(
        "SELECT * FROM advisors_case WHERE unit_id IN ({}) AND status NOT IN "
        "('declined', 'not_eligible', 'receiving', 'dropped') ORDER BY id LIMIT 50".format(
            ", ".join(str(i) for i in committees or [0])
        )
    )
    timings: dict[str, list[float]] = {"page": [], "sql": []}
    for _ in range(plan.rounds):
        with Session(kernel.engine) as session:
            began = time.perf_counter()
            items, _after = outreach.list_candidates(
                platform, session, actor, street, committees=committees
            )
            timings["page"].append((time.perf_counter() - began) * 1000)
            session.commit()
            assert len(items) == 50
        with kernel.engine.connect() as connection:
            began = time.perf_counter()
            rows = connection.execute(bare).all()
            timings["sql"].append((time.perf_counter() - began) * 1000)
            assert len(rows) == 50
    return timings, sync_seconds, sum(found.values())


def _figure(label: str, values: list[float], unit: str) -> Figure:
    return Figure(label, median(values), unit, spread(values, f" {unit}"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for result in run(quick=args.quick):
        print(result.report())
        sys.stdout.flush()
