"""The resident list through ``GET /api/v1/residents`` vs the bare SQL, at a million residents.

Issue 20 point 3: a committee's first and 50th page and a district admin's first page through
the API within 2x of the bare SQL, on PostgreSQL at 1,000,000 residents. The data is the one
``bench_residents`` builds (Shanghai's demo tree of 6,077 committees, residents written by
``residents.generate_bulk.bulk_load`` with ids interleaved as years of registrations leave them,
the demo cadre's committee holding 4,000); this benchmark measures the reading only, the import
is ``bench_residents``'s. Three pairs, each page of 50, the baseline being the page's bare SQL:
the statement the API sends, written by hand (the residents' own columns, their committee's
code and name, address, household and tags: ``json_agg`` / ``json_group_array`` in a
subquery; the same scope condition, order and ``LIMIT`` of a page and one row more), run on a
connection of the same pool, its rows fetched as tuples and the page encoded as JSON arrays
(orjson): what a bare endpoint serving that SQL does, nothing else:

- ``residents-list-page1``: a committee cadre's first page through the API (bearer token,
  ASGI called in-process: middleware, token, scope filter, the JSON views) vs that statement
  for ``r.unit_id = :unit``;
- ``residents-list-page50``: the same committee's 50th page (keyset cursor) vs the statement
  with ``r.id > :last``;
- ``residents-list-district``: a district admin's first page (徐汇区, some 60,000 residents) vs
  the statement over the district's committees (``r.unit_id IN (SELECT id FROM
  kernel_org_unit WHERE path LIKE :prefix || '%')``).

The token is remembered by the worker after its first lookup (``identity/credentials.py``), as
for any client sending pages in a row: the figure is the list, not the token lookup
(``bench_auth``'s subject).

The notes also compare each API page with ``SELECT * FROM kernel_resident`` for the same rows
(no unit, address, household or tags; encoded the same way), the baseline ``bench_residents``
and issue 20's first figures used.

Subject and baseline alternate within each round; medians of the rounds are reported, in wall
time and in CPU time (this process's, plus, when PostgreSQL runs on this machine, its backends'
for the database: ``_pgcpu.py``; this process's share is noted too), the steadier figure on a
busy machine. PostgreSQL as for
``bench_residents`` (``SHEQUYUN_BENCH_DATABASE_URL``, else the local server; SQLite when none
answers). To iterate without rebuilding the million each time, ``--database URL`` names a
database that is filled once and kept::

    .venv/bin/python bench/bench_residents_list.py --database \\
        postgresql+psycopg://postgres@127.0.0.1:5432/residents_list_1m
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
from pathlib import Path
from typing import Any

import orjson
from _common import Figure, Result, median, reproduce, spread
from _pgcpu import ServerClock
from bench_residents import (
    DATABASE_VARIABLE,
    DEFAULT_POSTGRES,
    PAGE,
    SEED,
    Plan,
    _Api,
    _cursor_of_page,
    _database_name,
    _kernel,
    _reachable,
    _say,
    _shown,
    _sizes,
    _temporary_postgres,
    _tree,
)
from sqlalchemy import text

FULL = Plan(1_000_000, 4_000, 0, 0, rounds=7, repeats=20, export_rounds=0)
QUICK = Plan(20_000, 2_600, 0, 0, rounds=1, repeats=3, export_rounds=0)
CADRE_UNIT = "tianping.cadre"  # the demo user whose committee is measured
DISTRICT = "310104000000"  # 徐汇区


def run(
    *, quick: bool = False, postgres_url: str | None = None, database: str | None = None
) -> list[Result]:
    plan = QUICK if quick else FULL
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("residents_list", quick=quick)
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-rl-")))
        fallback = ""
        if database is not None:
            url = database
            command = f"{command} --database {shlex.quote(_shown(database))}"
        elif _reachable(server):
            url = stack.enter_context(_temporary_postgres(server))
        else:
            url = f"sqlite:///{tmp / 'a.db'}"
            fallback = f"no PostgreSQL at {_shown(server)}: SQLite instead"
        kernel = _kernel(url, tmp / "data")
        try:
            loaded = _filled(kernel, plan)
            kernel.start()
            timings = _time_pages(kernel, plan)
        finally:
            kernel.close()
    measured = f"median of {plan.rounds} rounds x {plan.repeats} pages"
    cpu = "CPU: this process + PostgreSQL's backends" if timings["cpu"] else "CPU: this process"
    notes = [f for f in (fallback, loaded, _cpu_note(timings), _rows_note(timings), cpu) if f]
    return [
        _result(
            "residents-list-page1",
            f"a committee's first page of {PAGE} through GET /api/v1/residents vs bare SQL, "
            f"{measured}",
            timings,
            "1",
            command,
            notes,
        ),
        _result(
            "residents-list-page50",
            f"the same committee's 50th page (keyset cursor) through the API vs bare SQL, "
            f"{measured}",
            timings,
            "50",
            command,
            notes,
        ),
        _result(
            "residents-list-district",
            f"a district admin's first page (徐汇区) through the API vs bare SQL, {measured}",
            timings,
            "district",
            command,
            notes,
        ),
    ]


def _result(
    name: str, title: str, timings: dict[str, Any], kind: str, command: str, notes: list[str]
) -> Result:
    wall = timings["wall"]
    return Result(
        name=name,
        title=title,
        baseline=Figure(
            "the page's bare SQL", median(wall[f"sql {kind}"]), "us", spread(wall[f"sql {kind}"])
        ),
        subject=Figure(
            "GET /api/v1/residents", median(wall[f"api {kind}"]), "us", spread(wall[f"api {kind}"])
        ),
        command=command,
        notes=tuple(notes),
    )


def _cpu_note(timings: dict[str, Any]) -> str:
    cpu, own = timings["cpu_us"], timings["own_us"]
    parts = []
    for kind, label in (("1", "page 1"), ("50", "page 50"), ("district", "district")):
        api, sql = median(cpu[f"api {kind}"]), median(cpu[f"sql {kind}"])
        split = ""
        if timings["cpu"]:  # this process's share, the database's being the rest
            split = (
                f" (this process {median(own[f'api {kind}']):.0f} / "
                f"{median(own[f'sql {kind}']):.0f} us)"
            )
        parts.append(f"{label} {api:.0f} / {sql:.0f} us = {api / sql:.2f}x{split}")
    return "CPU time per page, API / the page's bare SQL: " + "; ".join(parts)


def _rows_note(timings: dict[str, Any]) -> str:
    wall, cpu = timings["wall"], timings["cpu_us"]
    parts = []
    for kind, label in (("1", "page 1"), ("50", "page 50"), ("district", "district")):
        rows, api = median(wall[f"rows {kind}"]), median(wall[f"api {kind}"])
        rows_cpu, api_cpu = median(cpu[f"rows {kind}"]), median(cpu[f"api {kind}"])
        parts.append(
            f"{label} {rows:.0f} us wall ({api / rows:.2f}x), {rows_cpu:.0f} us CPU "
            f"({api_cpu / rows_cpu:.2f}x)"
        )
    return (
        "against the resident rows alone (SELECT * FROM kernel_resident, no unit, address, "
        "household or tags; the baseline of earlier figures): " + "; ".join(parts)
    )


# -- the data -------------------------------------------------------------------------------


def _filled(kernel: Any, plan: Plan) -> str:
    """The demo tree and the residents, written unless the database holds them already."""
    from shequyun.residents.generate_bulk import bulk_load

    database = _database_name(kernel.engine)
    with kernel.engine.connect() as connection:
        present = connection.execute(text("SELECT count(*) FROM kernel_resident")).scalar_one()
    if present:
        return f"{database}; {present:,} residents already in the database"
    committees = _tree(kernel)
    cadre_unit = _demo_unit(kernel, CADRE_UNIT)
    sizes = _sizes(committees, plan, cadre_unit)
    _say(f"writing {plan.residents:,} residents with bulk_load on {database}")
    stats = bulk_load(kernel.engine, kernel.residents.cipher, committees, sizes, SEED)
    with kernel.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    return (
        f"{database}; {stats.residents:,} residents written by bulk_load in "
        f"{stats.seconds:.0f} s; the cadre's committee holds {plan.committee:,}"
    )


def _demo_unit(kernel: Any, username: str) -> str:
    from sqlmodel import Session, select

    from shequyun.identity.models import OrgUnit, User

    with Session(kernel.engine) as session:
        home = session.exec(select(User.home_unit_id).where(User.username == username)).one()
        unit = session.get(OrgUnit, home)
        assert unit is not None
        return unit.code


def _token(kernel: Any, username: str, role: str, unit_code: str) -> tuple[str, Any]:
    """A new token for a new user holding ``role`` on ``unit_code``, and the unit."""
    from sqlmodel import Session

    from shequyun.identity.directory import create_token, create_user, grant_role, unit_by_code

    with Session(kernel.engine, expire_on_commit=False) as session:
        unit = unit_by_code(session, unit_code)
        assert unit is not None
        user = create_user(
            session,
            username=f"{username}.{time.time_ns()}",
            display_name="基准测试",
            home_unit=unit,
            must_change_password=False,
        )
        grant = grant_role(session, kernel.permissions, user=user, role=role, unit=unit)
        _, secret = create_token(session, grant=grant, name="基准测试", expires_at=None)
        session.commit()
    return secret, unit


# -- timing ---------------------------------------------------------------------------------


def _time_pages(kernel: Any, plan: Plan) -> dict[str, Any]:
    committee = _demo_unit(kernel, CADRE_UNIT)
    cadre_token, unit = _token(kernel, "bench.list.cadre", "identity.cadre", committee)
    district_token, district = _token(
        kernel, "bench.list.district", "identity.district_admin", DISTRICT
    )
    engine = kernel.engine
    # The statements the API sends (ResidentReader.search, list_page.plain_page), written by
    # hand: the same columns, joins, scope condition, order and LIMIT (a page and one row
    # more, which tells whether there is a next page); no "id > :last" on a first page.
    rows_only = (
        "SELECT * FROM kernel_resident r WHERE {where} AND r.status = 'active'{after} "
        "ORDER BY r.id LIMIT :limit"
    )
    gathered = (
        "json_agg(t.tag)::text"
        if engine.dialect.name == "postgresql"
        else ("json_group_array(t.tag)")
    )
    page = (
        "SELECT r.id, r.name, r.gender, r.birth_date, r.id_number_masked, r.phone_masked, "
        "r.registration, r.extra, r.status, r.version, r.updated_at, r.address_id, "
        "r.household_id, u.code, u.name, a.compound, a.building, a.entrance, a.room, h.number, "
        f"(SELECT {gathered} FROM kernel_resident_tag t WHERE t.resident_id = r.id) AS tags "
        "FROM kernel_resident r JOIN kernel_org_unit u ON u.id = r.unit_id "
        "LEFT JOIN kernel_address a ON a.id = r.address_id "
        "LEFT JOIN kernel_household h ON h.id = r.household_id "
        "WHERE {where} AND r.status = 'active'{after} ORDER BY r.id LIMIT :limit"
    )
    committee_rows = "r.unit_id = :unit"
    district_rows = "r.unit_id IN (SELECT id FROM kernel_org_unit WHERE path LIKE :prefix || '%')"
    first, later = "", " AND r.id > :last"

    def sql(statement: Any, **params: Any) -> Callable[[int], int]:
        """The statement on a connection of the pool, its rows fetched as tuples and the page
        encoded as JSON arrays (orjson): what a bare endpoint serving the same SQL does."""

        def work(times: int) -> int:
            for _ in range(times):
                with engine.connect() as connection:
                    rows = connection.execute(statement, {**params, "limit": PAGE + 1}).all()
                    orjson.dumps([tuple(row) for row in rows[:PAGE]], default=str)
            return min(len(rows), PAGE)

        return work

    with _Pages(kernel, cadre_token) as api, _Pages(kernel, district_token) as district_api:
        cursor, last_id = _cursor_of_page(kernel, kernel.authenticator.from_bearer(cadre_token), 50)
        kinds: dict[str, Callable[[int], int]] = {
            "sql 1": sql(text(page.format(where=committee_rows, after=first)), unit=unit.id),
            "rows 1": sql(text(rows_only.format(where=committee_rows, after=first)), unit=unit.id),
            "api 1": api.get("/api/v1/residents?limit=50"),
            "sql 50": sql(
                text(page.format(where=committee_rows, after=later)), unit=unit.id, last=last_id
            ),
            "rows 50": sql(
                text(rows_only.format(where=committee_rows, after=later)),
                unit=unit.id,
                last=last_id,
            ),
            "api 50": api.get(f"/api/v1/residents?limit=50&cursor={cursor}"),
            "sql district": sql(
                text(page.format(where=district_rows, after=first)), prefix=district.path
            ),
            "rows district": sql(
                text(rows_only.format(where=district_rows, after=first)), prefix=district.path
            ),
            "api district": district_api.get("/api/v1/residents?limit=50"),
        }
        for name, work in kinds.items():  # warm up; every kind must see a full page
            if work(3) != PAGE:
                raise RuntimeError(f"{name} did not return a page of {PAGE}")
        return _alternate(engine, kinds, plan.rounds, plan.repeats)


class _Pages(_Api):
    """``_Api`` whose ``get(target)(n)`` sends ``n`` requests inside one task: the worker
    threads the endpoint hops to live as long as the task that started them (anyio), so a task
    per request (``_Api``'s) would start a thread for every page, which no server does.

    Only the first answer of the ``n`` is parsed (and its items counted); the others are
    checked for their status only. Parsing a page's JSON is the client's work, not the
    server's, and the bare SQL's page is encoded but never parsed: parsing every answer put
    about 70 us of the client's CPU (a 27 KB page) into the API's figure."""

    def get(self, target: str) -> Callable[[int], int]:  # type: ignore[override]
        path, _, query = target.partition("?")

        async def many(times: int) -> int:
            found = await self._get(path, query)
            for _ in range(times - 1):
                await self._answered(path, query)
            return found

        def work(times: int) -> int:
            return self.loop.run_until_complete(many(times))

        return work


def _alternate(
    engine: Any, kinds: dict[str, Callable[[int], int]], rounds: int, repeats: int
) -> dict[str, Any]:
    """Microseconds per page of each kind, wall and CPU, one figure per round (``repeats``
    pages in a row); subject and baseline pairs flip their order every round."""
    wall: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    own: dict[str, list[float]] = {name: [] for name in kinds}
    clock = ServerClock.open(engine)
    try:
        for number in range(rounds):
            for name in kinds if number % 2 == 0 else reversed(list(kinds)):
                work = kinds[name]
                before = clock.sample() if clock else {}
                used = time.process_time()
                began = time.perf_counter()
                work(repeats)
                wall[name].append((time.perf_counter() - began) / repeats * 1e6)
                used = time.process_time() - used
                own[name].append(used / repeats * 1e6)
                if clock:
                    after = clock.sample()
                    used += sum(ns - before.get(pid, 0) for pid, ns in after.items()) / 1e9
                cpu[name].append(used / repeats * 1e6)
    finally:
        if clock:
            clock.close()
    return {"wall": wall, "cpu_us": cpu, "own_us": own, "cpu": clock is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 residents, fewer runs")
    parser.add_argument("--postgres", metavar="URL", help="server for the temporary database")
    parser.add_argument(
        "--database", metavar="URL", help="a database to fill once and keep (for iterating)"
    )
    args = parser.parse_args(argv)
    for result in run(quick=args.quick, postgres_url=args.postgres, database=args.database):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
