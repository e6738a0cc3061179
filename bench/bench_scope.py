"""Scoped list over the full 16/215/6,077 tree: the scope filter vs the unit ids hard-coded.

A district administrator of 浦东新区 lists the records of the committees in their subtree. The
subject is the query as every list in shequyun builds it, ``scope.scope_filter`` (``unit_id IN
(SELECT id FROM kernel_org_unit WHERE path LIKE '/1/9/%')``); the baseline is the same query
with the subtree's unit ids computed beforehand and written into the SQL (``unit_id IN (17,
18, ...)``). Both are compiled to SQL text once and run on one connection, so only the
database's work is timed: a ``count(*)`` of the visible records, and the first page of 50,
newest first. The two take turns within each round; medians over the rounds are reported.

The tree is the demo's, built by ``identity.demo_data.load`` (``--quick`` generates a smaller
one, one committee per street, with ``directory.create_unit``). The records live in a
throwaway table ``bench_record`` (200,000 rows spread over the committees, indexed on
``unit_id``) in the benchmark's own database.

SQLite always; PostgreSQL too when ``SHEQUYUN_BENCH_DATABASE_URL`` names a server
(``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) or when this file is run with
``--postgres``: a temporary database is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import REPO, Figure, Result, median, reproduce, spread
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Select

DATABASE_VARIABLE = "SHEQUYUN_BENCH_DATABASE_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DIVISIONS = REPO / "kernel" / "src" / "shequyun" / "data" / "shanghai_divisions.csv"
DISTRICT = "310115000000"  # 浦东新区
COMMITTEES = 6077
PERMISSION = "identity.org.view"
PAGE = 50


@dataclass(frozen=True)
class Plan:
    committees: int
    records: int
    rounds: int
    repeats: int  # executions of each query per round; the round's figure is their mean


FULL = Plan(committees=COMMITTEES, records=200_000, rounds=7, repeats=10)
QUICK = Plan(committees=215, records=5_000, rounds=1, repeats=2)

records = Table(
    "bench_record",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, nullable=False, index=True),
    Column("title", String(80), nullable=False),
)


def run(*, quick: bool = False, postgres_url: str | None = None) -> list[Result]:
    plan = QUICK if quick else FULL
    postgres_url = postgres_url or os.environ.get(DATABASE_VARIABLE) or None
    command = reproduce("scope", quick=quick)
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-scope-") as tmp:
        results = _measure(f"sqlite:///{Path(tmp) / 'bench.db'}", plan, "", command)
    if postgres_url:
        with _temporary_postgres(postgres_url) as url:
            pg_command = f"{DATABASE_VARIABLE}={shlex.quote(_server(postgres_url))} {command}"
            results += _measure(url, plan, "-pg", pg_command)
    return results


def _measure(url: str, plan: Plan, suffix: str, command: str) -> list[Result]:
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, inline_worker=False)
    kernel = Kernel(settings, discover=False)
    try:
        kernel.upgrade_database()
        began = time.perf_counter()
        tree = _build_tree(kernel, plan.committees)
        built = time.perf_counter() - began
        with kernel.engine.connect() as connection:
            _fill_records(connection, plan.records)
            database = _database_name(connection)
            queries, facts = _queries(connection)
            timings = _time(connection, queries, plan)
    finally:
        kernel.close()
    measured = f"median of {plan.rounds} rounds x {plan.repeats} runs"
    notes = (
        f"{database}; tree {tree} (built in {built:.1f} s); {facts}",
        "both queries compiled to SQL once and run on one connection: only the database's work",
    )
    return [
        Result(
            name=f"scope-count{suffix}",
            title=f"count(*) of 浦东新区's records on {database}, {measured}",
            baseline=_figure("ids hard-coded", timings["count hard-coded"]),
            subject=_figure("scope filter", timings["count scoped"]),
            command=command,
            notes=notes,
        ),
        Result(
            name=f"scope-page{suffix}",
            title=f"first page of {PAGE} of 浦东新区's records on {database}, {measured}",
            baseline=_figure("ids hard-coded", timings["page hard-coded"]),
            subject=_figure("scope filter", timings["page scoped"]),
            command=command,
            notes=notes,
        ),
    ]


# -- the data -------------------------------------------------------------------------------


def _build_tree(kernel: Any, committees: int) -> str:
    """Build the org tree: the demo's for the full run, a smaller one for ``--quick``."""
    if committees == COMMITTEES:
        from shequyun.identity import demo_data

        demo_data.load(kernel)
        source = "built by identity.demo_data.load"
    else:
        _generate_tree(kernel, committees)
        source = "generated with directory.create_unit"
    counts = _level_counts(kernel)
    if counts.get("committee") != committees:
        raise RuntimeError(f"expected {committees:,} committees, the tree has {counts}")
    shape = "/".join(f"{counts.get(level, 0):,}" for level in ("district", "street", "committee"))
    return f"{shape} {source}"


def _generate_tree(kernel: Any, committees: int) -> None:
    from sqlmodel import Session

    from shequyun.identity.directory import create_unit

    with DIVISIONS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    streets = [row for row in rows if row["level"] == "street"]
    per_street, extra = divmod(committees, len(streets))
    with Session(kernel.engine, expire_on_commit=False) as session:
        units: dict[str, Any] = {}
        for row in rows:
            parent = units[row["parent_code"]] if row["parent_code"] else None
            units[row["code"]] = create_unit(
                session, code=row["code"], name=row["name"], level=row["level"], parent=parent
            )
        for index, street in enumerate(streets):
            for number in range(1, per_street + (1 if index < extra else 0) + 1):
                create_unit(
                    session,
                    code=street["code"][:9] + f"{number:03d}",
                    name=f"{street['name']}第{number}居委会",
                    level="committee",
                    parent=units[street["code"]],
                )
        session.commit()


def _level_counts(kernel: Any) -> dict[str, int]:
    from sqlmodel import Session, col

    from shequyun.identity.models import OrgUnit

    with Session(kernel.engine) as session:
        rows = session.execute(select(OrgUnit.level, func.count()).group_by(col(OrgUnit.level)))
        return {level: count for level, count in rows.all()}


def _fill_records(connection: Connection, count: int) -> None:
    """``count`` records spread at random (seeded) over the committees."""
    from shequyun.identity.models import OrgUnit

    records.create(connection)
    committees = connection.execute(
        select(OrgUnit.id)
        .where(OrgUnit.level == "committee")  # type: ignore[arg-type]
        .order_by(OrgUnit.id)  # type: ignore[arg-type]
    ).scalars()
    unit_ids = list(committees)
    chooser = random.Random(3)
    chunk = 10_000
    for start in range(0, count, chunk):
        connection.execute(
            records.insert(),
            [
                {"unit_id": chooser.choice(unit_ids), "title": f"记录 {n}"}
                for n in range(start, min(start + chunk, count))
            ],
        )
    connection.commit()
    connection.exec_driver_sql("ANALYZE")
    connection.commit()


# -- the queries ----------------------------------------------------------------------------


def _queries(connection: Connection) -> tuple[dict[str, str], str]:
    """The four statements as SQL text, checked to give the same answers; and the sizes."""
    from shequyun_sdk.identity import Actor
    from sqlmodel import Session

    from shequyun.identity import scope
    from shequyun.identity.actors import issue
    from shequyun.identity.auth import unit_ref
    from shequyun.identity.models import OrgUnit

    with Session(connection) as session:
        district = session.execute(
            select(OrgUnit).where(OrgUnit.code == DISTRICT)  # type: ignore[arg-type]
        ).scalar_one()
        actor = issue(
            Actor(
                user_id=None,
                username="bench",
                display_name="区管理员",
                grant_id=0,
                role="identity.district_admin",
                unit=unit_ref(district),
                permissions=frozenset({PERMISSION}),
            )
        )
    scoped = scope.scope_filter(actor, PERMISSION, records.c.unit_id)
    unit_ids = list(
        connection.execute(
            select(OrgUnit.id).where(scope.unit_scope_filter(actor, PERMISSION))
        ).scalars()
    )
    hard_coded = records.c.unit_id.in_(unit_ids)

    def count(condition: Any) -> Select[Any]:
        return select(func.count()).select_from(records).where(condition)

    def page(condition: Any) -> Select[Any]:
        return select(records).where(condition).order_by(records.c.id.desc()).limit(PAGE)

    statements = {
        "count scoped": count(scoped),
        "count hard-coded": count(hard_coded),
        "page scoped": page(scoped),
        "page hard-coded": page(hard_coded),
    }
    sql = {
        name: str(s.compile(connection, compile_kwargs={"literal_binds": True}))
        for name, s in statements.items()
    }
    answers = {name: connection.exec_driver_sql(q).all() for name, q in sql.items()}
    if answers["count scoped"] != answers["count hard-coded"] or (
        answers["page scoped"] != answers["page hard-coded"]
    ):
        raise RuntimeError("the scope filter and the hard-coded ids disagree")
    total = connection.execute(select(func.count()).select_from(records)).scalar_one()
    visible = answers["count scoped"][0][0]
    facts = f"{visible:,} of {total:,} records visible, {len(unit_ids):,} units in the IN list"
    return sql, facts


def _time(connection: Connection, queries: dict[str, str], plan: Plan) -> dict[str, list[float]]:
    """Microseconds per run of each query, one figure per round; scoped and hard-coded
    alternate, and who goes first alternates between rounds."""
    timings: dict[str, list[float]] = {name: [] for name in queries}
    for query in queries.values():  # warm the caches of both databases
        connection.exec_driver_sql(query).all()
    for number in range(plan.rounds):
        for kind in ("count", "page"):
            pair = [f"{kind} scoped", f"{kind} hard-coded"]
            for name in pair if number % 2 == 0 else reversed(pair):
                timings[name].append(_mean_us(lambda q=queries[name]: _fetch(connection, q), plan))
    connection.rollback()
    return timings


def _fetch(connection: Connection, query: str) -> None:
    connection.exec_driver_sql(query).all()


def _mean_us(work: Callable[[], None], plan: Plan) -> float:
    began = time.perf_counter()
    for _ in range(plan.repeats):
        work()
    return (time.perf_counter() - began) / plan.repeats * 1e6


def _figure(label: str, values: list[float]) -> Figure:
    return Figure(label, median(values), "us", spread(values, " us"))


def _database_name(connection: Connection) -> str:
    if connection.dialect.name == "sqlite":
        version = connection.exec_driver_sql("select sqlite_version()").scalar_one()
        return f"SQLite {version}"
    version = connection.exec_driver_sql("show server_version").scalar_one()
    return f"PostgreSQL {str(version).split()[0]}"


# -- PostgreSQL -----------------------------------------------------------------------------


def _server(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def _temporary_postgres(server_url: str) -> Iterator[str]:
    """A fresh database on the server of ``server_url``, dropped afterwards."""
    from shequyun.db import make_engine

    server = make_url(server_url)
    name = f"shequyun_bench_{uuid.uuid4().hex[:12]}"
    admin: Engine = make_engine(
        server.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller tree, fewer runs")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        metavar="URL",
        help=f"also on PostgreSQL, in a temporary database on this server ({DEFAULT_POSTGRES})",
    )
    args = parser.parse_args(argv)
    for result in run(quick=args.quick, postgres_url=args.postgres):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
