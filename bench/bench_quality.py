"""Data quality: a full scan of a million residents vs hand-written SQL; the cost per update.

The full run builds Shanghai's demo tree and writes 1,000,000 generated residents into 徐汇区's
committees with ``residents.generate_bulk.bulk_load`` (households, addresses, tags; some phones
missing, as the generator leaves them), marks one record in ten as last changed two years ago
(for the freshness rule), and runs ``ANALYZE``.

- ``quality-scan`` — subject: ``kernel.quality.scan()``, the full scan the daily job and a saved
  rule run: the ten shipped rules, each one ``DELETE`` and one ``INSERT … SELECT`` built from the
  rule's data, in a transaction per rule. Baseline: the same ten rules written by hand as SQL
  text (the same deletes and inserts, the cut-off dates bound as parameters). Both must write
  the same number of findings per rule, or the benchmark fails.
- ``quality-update`` — the cost of keeping findings current: subject: one resident's update
  through ``ResidentService.update`` followed by the ``resident.updated`` subscriber's work
  (``QualityService.on_resident_events``: every rule re-evaluated for the residents the change
  touches); baseline: the same update alone. The ratio is what keeping findings current adds to
  an update.

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
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread
from bench_indicators import _analyze, _tree
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

SEED = 2121


@dataclass(frozen=True)
class Plan:
    residents: int
    rounds: int
    updates: int


FULL = Plan(1_000_000, rounds=3, updates=200)
QUICK = Plan(20_000, rounds=1, updates=20)


def run(
    *, quick: bool = False, postgres_url: str | None = None, residents: int | None = None
) -> list[Result]:
    plan = QUICK if quick else FULL
    if residents and residents != plan.residents:
        plan = Plan(residents, plan.rounds, plan.updates)
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("quality", quick=quick)
    if residents and residents != (QUICK if quick else FULL).residents:
        quick_flag = " --quick" if quick else ""
        command = f".venv/bin/python bench/bench_quality.py{quick_flag} --residents {residents}"
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-q-")))
        if _reachable(server):
            url, fallback = stack.enter_context(_temporary_postgres(server)), ""
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
            fallback = f"no PostgreSQL at {_shown(server)}: SQLite instead"
        results = _measure(url, tmp, plan, command)
    if fallback:
        results = [
            Result(r.name, r.title, r.baseline, r.subject, r.command, (fallback, *r.notes))
            for r in results
        ]
    return results


def _measure(url: str, tmp: Path, plan: Plan, command: str) -> list[Result]:
    from shequyun.kernel import Kernel
    from shequyun.residents.generate_bulk import bulk_load
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, data_dir=tmp, inline_worker=False)
    kernel = Kernel(settings, discover=False)
    try:
        kernel.upgrade_database()
        database = _database_name(kernel.engine)
        _, streets, committees = _tree(kernel)
        _say(f"writing {plan.residents:,} residents into 徐汇区 with bulk_load on {database}")
        stats = bulk_load(kernel.engine, kernel.residents.cipher, committees, plan.residents, SEED)
        kernel.start(check_migrations=False)
        with kernel.engine.begin() as connection:
            connection.execute(
                text("UPDATE kernel_resident SET updated_at = :old WHERE id % 10 = 3"),
                {"old": datetime.now(UTC) - timedelta(days=730)},
            )
        _analyze(kernel)
        scan = _scan(kernel, plan)
        update = _updates(kernel, plan, committees[0])
    finally:
        kernel.close()
    where = (
        f"{database}; 徐汇区: {len(streets)} streets, {len(committees)} committees, "
        f"{stats.residents:,} residents in {stats.households:,} households"
    )
    scan_subject, scan_baseline, written = scan
    findings = ", ".join(f"{code} {n:,}" for code, n in written.items())
    update_subject, update_baseline = update
    return [
        Result(
            name="quality-scan",
            title=f"full scan, 10 shipped rules over {stats.residents:,} residents, "
            f"median of {plan.rounds}",
            baseline=_figure("hand-written SQL", scan_baseline, "ms"),
            subject=_figure("QualityService.scan", scan_subject, "ms"),
            command=command,
            notes=(where, f"findings per rule (same in both): {findings}"),
        ),
        Result(
            name="quality-update",
            title=f"one resident updated, findings kept current, median of {plan.updates}",
            baseline=_figure("update alone", update_baseline, "ms"),
            subject=_figure("update + refresh", update_subject, "ms"),
            command=command,
            notes=(
                where,
                "subject: ResidentService.update (phone changed) then the resident.updated "
                "subscriber's refresh; baseline: the update alone",
            ),
        ),
    ]


# -- the full scan --------------------------------------------------------------------------


def _scan(kernel: Any, plan: Plan) -> tuple[list[float], list[float], dict[str, int]]:
    baseline = _hand_written(kernel)
    subject_times, baseline_times = [], []
    written: dict[str, int] = {}
    for _ in range(plan.rounds):
        began = time.perf_counter()
        result = kernel.quality.scan()
        subject_times.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        by_hand = baseline()
        baseline_times.append((time.perf_counter() - began) * 1000)
        if by_hand != result.findings:
            raise RuntimeError(f"the scan wrote {result.findings}, the SQL {by_hand}")
        written = by_hand
    return subject_times, baseline_times, written


_INSERT = (
    "INSERT INTO kernel_quality_finding (rule_code, rule_version, level, resident_id, "
    "household_id, unit_id, group_key, found_at) SELECT '{code}', 1, '{level}', r.id, "
    "r.household_id, r.unit_id, {key}, :now FROM kernel_resident r {join} WHERE "
    "r.status = 'active' AND {where} AND NOT EXISTS (SELECT 1 FROM kernel_quality_waiver w "
    "WHERE w.rule_code = '{code}' AND w.resident_id = r.id)"
)
_TAGGED = "EXISTS (SELECT 1 FROM kernel_resident_tag t WHERE t.resident_id = r.id AND t.tag = '{}')"
_RULES: dict[str, dict[str, str]] = {
    "missing_phone": {
        "level": "warning",
        "where": "r.registration IN ('huji', 'changzhu') AND r.phone_hash IS NULL",
    },
    "missing_address": {"level": "error", "where": "r.address_id IS NULL"},
    "missing_household": {
        "level": "warning",
        "where": "r.registration = 'huji' AND r.household_id IS NULL",
    },
    "age_over_110": {"level": "error", "where": "r.birth_date <= :born_111"},
    "household_head_under_16": {
        "level": "error",
        "key": "r.household_id",
        "where": "r.id IN (SELECT min(o.id) FROM kernel_resident o JOIN (SELECT household_id "
        "AS hid, min(birth_date) AS born FROM kernel_resident WHERE status = 'active' AND "
        "household_id IS NOT NULL GROUP BY household_id HAVING min(birth_date) > :born_16) y "
        "ON o.household_id = y.hid AND o.birth_date = y.born WHERE o.status = 'active' "
        "GROUP BY y.hid)",
    },
    "alone_with_members": {
        "level": "warning",
        "key": "r.household_id",
        "where": "r.household_id IS NOT NULL AND "
        + _TAGGED.format("独居老人")
        + " AND EXISTS (SELECT 1 FROM kernel_resident m WHERE m.household_id = r.household_id "
        "AND m.id <> r.id AND m.status = 'active')",
    },
    "dibao_without_household": {
        "level": "error",
        "where": "r.household_id IS NULL AND " + _TAGGED.format("低保"),
    },
    "two_active_changzhu": {
        "level": "error",
        "key": "s.key",
        "join": "JOIN (SELECT name, gender, birth_date, min(id) AS key FROM kernel_resident "
        "WHERE status = 'active' AND registration = 'changzhu' GROUP BY name, gender, "
        "birth_date HAVING count(*) > 1) s ON s.name = r.name AND s.gender = r.gender AND "
        "s.birth_date = r.birth_date",
        "where": "r.registration = 'changzhu'",
    },
    "shared_phone": {
        "level": "warning",
        "key": "p.key",
        "join": "JOIN (SELECT phone_hash, min(id) AS key FROM kernel_resident WHERE status = "
        "'active' AND phone_hash IS NOT NULL GROUP BY phone_hash HAVING count(DISTINCT "
        "coalesce(household_id, -id)) >= 4) p ON p.phone_hash = r.phone_hash",
        "where": "1 = 1",
    },
    "not_confirmed_12_months": {
        "level": "warning",
        "where": "r.updated_at < :since AND NOT EXISTS (SELECT 1 FROM "
        "kernel_quality_confirmation c WHERE c.resident_id = r.id AND c.confirmed_at >= :since)",
    },
}


def _hand_written(kernel: Any) -> Callable[[], dict[str, int]]:
    """The ten shipped rules as SQL text: per rule, the delete and the insert."""
    from shequyun.quality.checks import years_ago
    from shequyun.quality.service import beijing_today

    statements = {
        code: (
            text("DELETE FROM kernel_quality_finding WHERE rule_code = :code"),
            text(
                _INSERT.format(
                    code=code,
                    level=rule["level"],
                    key=rule.get("key", "NULL"),
                    join=rule.get("join", ""),
                    where=rule["where"],
                )
            ),
        )
        for code, rule in _RULES.items()
    }

    def run() -> dict[str, int]:
        now = datetime.now(UTC)
        today = beijing_today(now)
        params = {
            "now": now,
            "born_111": years_ago(today, 111),
            "born_16": years_ago(today, 16),
            "since": now - timedelta(days=round(12 * 30.44)),
        }
        written = {}
        for code, (drop, insert) in statements.items():
            with kernel.engine.begin() as connection:
                connection.execute(drop, {"code": code})
                used = {k: v for k, v in params.items() if f":{k}" in str(insert)}
                written[code] = connection.execute(insert, used).rowcount
        return written

    return run


# -- keeping findings current -----------------------------------------------------------------


def _updates(kernel: Any, plan: Plan, committee: Any) -> tuple[list[float], list[float]]:
    from sqlmodel import Session, col, select

    from shequyun.residents.models import Resident

    with Session(kernel.engine) as session:
        ids = list(
            session.exec(
                select(col(Resident.id))
                .where(Resident.unit_id == committee.id, Resident.status == "active")
                .order_by(col(Resident.id))
                .limit(plan.updates * 2)
            )
        )
    actor = _cadre(kernel, committee)
    subject, baseline = [], []
    for number, resident_id in enumerate(ids):
        phone = f"1390{number:07d}"
        began = time.perf_counter()
        payload = _update(kernel, actor, resident_id, phone)
        middle = time.perf_counter()
        if number % 2 == 0:
            _refresh(kernel, payload)
            subject.append((time.perf_counter() - began) * 1000)
        else:
            baseline.append((middle - began) * 1000)
    return subject, baseline


def _refresh(kernel: Any, payload: Any) -> None:
    """What the data-quality subscriber does for one delivered ``resident.updated``."""
    from sqlmodel import Session

    with Session(kernel.engine) as session:
        kernel.quality.on_resident_events(session, [("resident.updated", payload)])
        session.commit()


def _cadre(kernel: Any, committee: Any) -> Any:
    from sqlmodel import Session

    from shequyun.identity.directory import create_user, grant_role

    with Session(kernel.engine, expire_on_commit=False) as session:
        user = create_user(
            session, username="bench.cadre", display_name="居委干部", home_unit=committee
        )
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.cadre", unit=committee
        )
        session.commit()
    return kernel.authenticator.actor_for(user, grant, committee, "session")


def _update(kernel: Any, actor: Any, resident_id: int, phone: str) -> dict[str, Any]:
    from sqlmodel import Session

    from shequyun.residents.models import Resident

    with Session(kernel.engine) as session:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        kernel.residents.update(
            session, actor, resident_id, {"phone": phone}, version=resident.version, source="api"
        )
        session.commit()
        return {"resident_id": resident_id, "version": resident.version, "fields": ["phone"]}


def _figure(label: str, values: list[float], unit: str) -> Figure:
    return Figure(label, median(values), unit, spread(values, f" {unit}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 residents, one round")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"the PostgreSQL server to create the temporary database on ({DEFAULT_POSTGRES})",
    )
    parser.add_argument("--residents", type=int, help="how many residents (default 1,000,000)")
    args = parser.parse_args(argv)
    for result in run(quick=args.quick, postgres_url=args.postgres, residents=args.residents):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
