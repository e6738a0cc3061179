"""Residents at a million: a committee's pages and XLSX export, and bulk import, vs bare SQL.

The full run builds Shanghai's demo tree (16 districts, 215 streets, 6,077 committees, from
``identity.demo_data.load``) and writes 1,000,000 generated residents into it with
``residents.generate_bulk.bulk_load`` (households, addresses and tags included), one committee, the
demo cadre's, holding 4,000 of them. Then, against baselines measured in the same run:

- ``residents-page1``, ``residents-page50``: one committee's first and 50th page of 50 through
  ``kernel.residents.search`` for that committee's cadre (scope filter, keyset cursor, the API
  views: tags, unit, address, household), vs the bare query ``SELECT * FROM kernel_resident
  WHERE unit_id = :unit AND status = 'active' AND id > :last ORDER BY id LIMIT 50``;
- ``residents-page50-api``: the 50th page through ``GET /api/v1/residents`` with the cadre's
  token, called in-process over ASGI (middleware, token lookup, JSON), vs the same bare query;
- ``residents-export-xlsx``: the committee's 4,000 residents exported to XLSX through
  ``residents.exporting.ResidentExport`` (scoped reads in keyset batches, an audit entry, the
  write-only workbook), vs the csv module writing the same rows (read beforehand) to memory;
- ``residents-import``: 1,000,000 other generated residents imported into a fresh database with
  ``residents.importing.apply_import``, as five CSV files of 200,000 rows (the import's size
  limit), vs ``COPY`` of the same rows, encrypted beforehand, into a scratch table shaped like
  ``kernel_resident`` (every index the real table has, as ``pg_indexes`` or ``sqlite_master``
  lists them; no foreign keys). The import also checks every row, matches ID numbers, and writes
  addresses, households, tags, history rows, outbox events and their deliveries (one per
  subscriber of the started kernel: two per resident); the copy writes the resident rows alone.
  Files and copies alternate. For comparison with figures measured before 2026-12-06, the notes
  also give the copy into the older scratch table (the primary key and four indexes;
  kernel_resident gained more since that baseline was written).
- ``residents-import-floor`` (PostgreSQL): the same imports vs the storage floor, ``COPY`` of
  every row each import wrote (in every table: residents as stored, history, households,
  addresses, tags, tally rows, events, audit), read back from its transaction (``xmin``) as COPY
  text held in memory, into copies of those tables (indexes, no foreign keys), right after it.

Subject and baseline alternate within each round; medians are reported. PostgreSQL is used,
in a temporary database created on ``SHEQUYUN_BENCH_DATABASE_URL`` or, when unset, on
``postgresql+psycopg://postgres@127.0.0.1:5432`` (dropped afterwards); when no server answers,
SQLite in a temporary directory (``executemany`` instead of ``COPY``), and the output says so.
``--quick`` does the same with 20,000 residents (2,600 in the cadre's committee) and an import
of two files of 10,000. The full run takes several minutes; the time to generate and write the
million is in the notes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import itertools
import os
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

DATABASE_VARIABLE = "SHEQUYUN_BENCH_DATABASE_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PAGE = 50
SEED = 2020
IMPORT_SEED = 2021


@dataclass(frozen=True)
class Plan:
    residents: int
    committee: int  # residents of the measured committee (50 pages need 2,550)
    import_files: int
    import_rows: int  # per file
    rounds: int
    repeats: int  # page queries per round
    export_rounds: int


FULL = Plan(1_000_000, 4_000, 5, 200_000, rounds=7, repeats=20, export_rounds=5)
QUICK = Plan(20_000, 2_600, 2, 10_000, rounds=1, repeats=3, export_rounds=1)


def run(
    *,
    quick: bool = False,
    postgres_url: str | None = None,
    import_only: bool = False,
    import_files: int | None = None,
    import_rows: int | None = None,
) -> list[Result]:
    plan = QUICK if quick else FULL
    if import_files or import_rows:
        plan = replace(
            plan,
            import_files=import_files or plan.import_files,
            import_rows=import_rows or plan.import_rows,
        )
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("residents", quick=quick)
    if import_only:
        command = "../.venv/bin/python bench_residents.py --import-only" + (
            " --quick" if quick else ""
        )
        if import_files:
            command += f" --files {import_files}"
        if import_rows:
            command += f" --rows {import_rows}"
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    if import_only:
        command = f"cd bench && {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-res-")))
        if _reachable(server):
            first = "" if import_only else stack.enter_context(_temporary_postgres(server))
            second = stack.enter_context(_temporary_postgres(server))
            fallback = ""
        else:
            first, second = f"sqlite:///{tmp / 'a.db'}", f"sqlite:///{tmp / 'b.db'}"
            fallback = f"no PostgreSQL at {_shown(server)}: SQLite instead"
        results = [] if import_only else _reading(_kernel(first, tmp / "a"), plan, command)
        results.extend(_importing(_kernel(second, tmp / "b"), plan, command))
    if fallback:
        results = [
            Result(r.name, r.title, r.baseline, r.subject, r.command, (fallback, *r.notes))
            for r in results
        ]
    return results


# -- reading: pages and the export ----------------------------------------------------------


def _reading(kernel: Any, plan: Plan, command: str) -> list[Result]:
    from shequyun.residents.generate_bulk import bulk_load

    try:
        database = _database_name(kernel.engine)
        began = time.perf_counter()
        committees = _tree(kernel)
        tree_seconds = time.perf_counter() - began
        cadre = _cadre(kernel)
        sizes = _sizes(committees, plan, cadre.unit.code)
        _say(f"writing {plan.residents:,} residents with bulk_load on {database}")
        stats = bulk_load(kernel.engine, kernel.residents.cipher, committees, sizes, SEED)
        kernel.start()
        cursor, last_id = _cursor_of_page(kernel, cadre.actor, 50)
        _say("timing pages")
        with _Api(kernel, cadre.token) as api:
            pages = _time_pages(kernel, cadre, api, cursor, last_id, plan)
        _say("timing the export")
        exports = _time_export(kernel, cadre.actor, plan)
    finally:
        kernel.close()
    loaded = (
        f"{database}; tree of 6,077 committees in {tree_seconds:.1f} s; {stats.residents:,} "
        f"residents ({stats.households:,} households, {stats.tags:,} tags) generated, encrypted "
        f"and written by generate.bulk_load in {stats.seconds:.1f} s "
        f"({stats.residents / stats.seconds:,.0f}/s); the cadre's committee holds "
        f"{plan.committee:,}"
    )
    measured = f"median of {plan.rounds} rounds x {plan.repeats} queries"
    service_notes = (
        loaded,
        "of which the scoped query alone (no API views): first page "
        f"{median(pages['query 1']):.0f} us, 50th page {median(pages['query 50']):.0f} us",
    )
    return [
        Result(
            name="residents-page1",
            title=f"a committee's first page of {PAGE}: service.search vs bare SQL, {measured}",
            baseline=_figure("bare SQL", pages["sql 1"], "us"),
            subject=_figure("residents.search", pages["service 1"], "us"),
            command=command,
            notes=service_notes,
        ),
        Result(
            name="residents-page50",
            title=f"the same committee's 50th page (keyset cursor), {measured}",
            baseline=_figure("bare SQL", pages["sql 50"], "us"),
            subject=_figure("residents.search", pages["service 50"], "us"),
            command=command,
            notes=service_notes,
        ),
        Result(
            name="residents-page50-api",
            title=f"50th page through GET /api/v1/residents in-process vs bare SQL, {measured}",
            baseline=_figure("bare SQL", pages["sql 50"], "us"),
            subject=_figure("GET /api/v1/residents", pages["api 50"], "us"),
            command=command,
            notes=(
                loaded,
                f"first page through the API: {median(pages['api 1']):.0f} us; bearer token, "
                "ASGI called directly (no server, no HTTP parsing)",
            ),
        ),
        Result(
            name="residents-export-xlsx",
            title=f"export of the committee's {plan.committee:,} residents, all columns, "
            f"median of {plan.export_rounds}",
            baseline=_figure("csv module", exports["csv module"], "ms"),
            subject=_figure("XLSX export", exports["xlsx export"], "ms"),
            command=command,
            notes=(
                loaded,
                f"the same export as CSV (UTF-8 with BOM): {median(exports['csv export']):.0f} ms;"
                f" openpyxl write-only alone on the rows read beforehand: "
                f"{median(exports['openpyxl']):.0f} ms; XLSX size "
                f"{exports['xlsx bytes'][0] / 1e6:.1f} MB",
                "the baseline writes the rows, read beforehand, with csv.writer to memory",
            ),
        ),
    ]


def _sizes(committees: list[Any], plan: Plan, measured: str) -> dict[str, int]:
    """The measured committee gets ``plan.committee``; the rest is spread, some committees
    twice as populous as others."""
    others = [c for c in committees if c.code != measured]
    rng = random.Random(SEED)
    weights = [rng.uniform(0.5, 1.5) for _ in others]
    rest = plan.residents - plan.committee
    scale = rest / sum(weights)
    sizes = {c.code: int(w * scale) for c, w in zip(others, weights, strict=True)}
    for committee in others[: rest - sum(sizes.values())]:
        sizes[committee.code] += 1
    sizes[measured] = plan.committee
    return sizes


@dataclass
class Cadre:
    actor: Any
    unit: Any
    token: str


def _cadre(kernel: Any) -> Cadre:
    """The demo cadre's committee, and a cadre there with a token."""
    from sqlmodel import Session, select

    from shequyun.identity.directory import create_token, create_user, grant_role
    from shequyun.identity.models import OrgUnit, User

    with Session(kernel.engine, expire_on_commit=False) as session:
        home = session.exec(select(User.home_unit_id).where(User.username == "tianping.cadre"))
        unit = session.get(OrgUnit, home.one())
        assert unit is not None
        user = create_user(
            session,
            username="bench.cadre",
            display_name="基准测试干部",
            home_unit=unit,
            must_change_password=False,
        )
        grant = grant_role(session, kernel.permissions, user=user, role="identity.cadre", unit=unit)
        _, token = create_token(session, grant=grant, name="基准测试", expires_at=None)
        session.commit()
        actor = kernel.authenticator.actor_for(user, grant, unit, "token")
    return Cadre(actor, unit, token)


def _cursor_of_page(kernel: Any, actor: Any, number: int) -> tuple[str, int]:
    """The cursor that opens page ``number``, and the id it stands for."""
    from sqlmodel import Session

    from shequyun.residents.service import ResidentFilters

    cursor = None
    last_id = 0
    with Session(kernel.engine) as session:
        for _ in range(number - 1):
            page = kernel.residents.search(session, actor, ResidentFilters(), after=cursor)
            cursor = page.next_cursor
            last_id = page.items[-1]["id"]
            if cursor is None:
                raise RuntimeError(f"the committee has fewer than {number} pages")
    assert cursor is not None
    return cursor, last_id


def _time_pages(
    kernel: Any, cadre: Cadre, api: _Api, cursor: str, last_id: int, plan: Plan
) -> dict[str, list[float]]:
    from sqlmodel import Session, col

    from shequyun.residents.models import Resident
    from shequyun.residents.service import ResidentFilters

    service, engine = kernel.residents, kernel.engine
    bare = text(
        "SELECT * FROM kernel_resident WHERE unit_id = :unit AND status = 'active' "
        "AND id > :last ORDER BY id LIMIT :limit"
    )
    unit_id = cadre.unit.id

    def sql(last: int) -> Callable[[], int]:
        def work() -> int:
            with engine.connect() as connection:
                params = {"unit": unit_id, "last": last, "limit": PAGE}
                return len(connection.execute(bare, params).all())

        return work

    def search(after: str | None) -> Callable[[], int]:
        def work() -> int:
            with Session(engine) as session:
                return len(
                    service.search(session, cadre.actor, ResidentFilters(), after=after).items
                )

        return work

    def query(last: int) -> Callable[[], int]:
        scoped = service.scoped_query(cadre.actor, ResidentFilters())

        def work() -> int:
            with Session(engine) as session:
                q = scoped.where(col(Resident.id) > last).order_by(col(Resident.id)).limit(PAGE)
                return len(list(session.exec(q)))

        return work

    kinds: dict[str, Callable[[], int]] = {
        "sql 1": sql(0),
        "service 1": search(None),
        "query 1": query(0),
        "api 1": api.get("/api/v1/residents?limit=50"),
        "sql 50": sql(last_id),
        "service 50": search(cursor),
        "query 50": query(last_id),
        "api 50": api.get(f"/api/v1/residents?limit=50&cursor={cursor}"),
    }
    for name, work in kinds.items():  # warm up, and check that every kind sees a full page
        if work() != PAGE:
            raise RuntimeError(f"{name} did not return a page of {PAGE}")
    return _alternate(kinds, plan.rounds, plan.repeats, scale=1e6)


def _alternate(
    kinds: dict[str, Callable[[], Any]], rounds: int, repeats: int, *, scale: float
) -> dict[str, list[float]]:
    """Mean time per call of each kind, one figure per round; the order flips every round."""
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    for number in range(rounds):
        for name in kinds if number % 2 == 0 else reversed(kinds):
            work = kinds[name]
            began = time.perf_counter()
            for _ in range(repeats):
                work()
            timings[name].append((time.perf_counter() - began) / repeats * scale)
    return timings


class _Api:
    """GET requests straight into the platform app over ASGI, with a bearer token, on one
    event loop kept for all of them."""

    def __init__(self, kernel: Any, token: str) -> None:
        from shequyun.app import create_app

        self.app = create_app(kernel=kernel)
        self.headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
        self.loop = asyncio.new_event_loop()

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.close()

    def get(self, target: str) -> Callable[[], int]:
        path, _, query = target.partition("?")

        def work() -> int:
            return self.loop.run_until_complete(self._get(path, query))

        return work

    async def _get(self, path: str, query: str) -> int:
        """The number of items of the page ``path?query`` answers."""
        import orjson  # the client's parse is not the server's work: keep it small

        return len(orjson.loads(await self._answered(path, query))["items"])

    async def _answered(self, path: str, query: str) -> bytes:
        """The body ``GET path?query`` answers, unparsed; a status other than 200 is an error."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        status, body = 0, b""

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        await self.app(scope, receive, send)
        if status != 200:
            raise RuntimeError(f"GET {path}?{query} answered {status}: {body[:300]!r}")
        return body


def _time_export(kernel: Any, actor: Any, plan: Plan) -> dict[str, list[float]]:
    from openpyxl import Workbook

    from shequyun.residents.exporting import ResidentExport, resolve_columns
    from shequyun.residents.service import ResidentFilters

    columns = resolve_columns(kernel.residents.vocabulary, None)
    sizes: list[float] = []

    def export(file_format: str) -> ResidentExport:
        job = ResidentExport(
            kernel,
            actor,
            ResidentFilters(),
            columns,
            purpose="性能基准测试",
            file_format=file_format,
        )
        if job.start() != plan.committee:
            raise RuntimeError("the export does not hold the whole committee")
        return job

    rows = [row for batch in export("csv").batches() for row in batch]
    titles = [c.title for c in columns]

    def xlsx_export() -> None:
        sizes.append(sum(len(chunk) for chunk in export("xlsx").chunks()))

    def csv_export() -> None:
        sum(len(chunk) for chunk in export("csv").chunks())

    def csv_module() -> None:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(titles)
        writer.writerows(rows)
        buffer.getvalue().encode("utf-8")

    def openpyxl_alone() -> None:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("居民信息")
        sheet.append(titles)
        for row in rows:
            sheet.append(row)
        workbook.save(io.BytesIO())

    timings = _alternate(
        {
            "csv module": csv_module,
            "xlsx export": xlsx_export,
            "csv export": csv_export,
            "openpyxl": openpyxl_alone,
        },
        plan.export_rounds,
        1,
        scale=1e3,
    )
    timings["xlsx bytes"] = sizes
    return timings


# -- importing ------------------------------------------------------------------------------


def _importing(kernel: Any, plan: Plan, command: str) -> list[Result]:
    from _pgcpu import ServerClock

    from shequyun.residents.importing import apply_import

    clock = None
    try:
        # Started, as a server's kernel is: its event subscribers registered, so that the import
        # writes their deliveries as it does there (two per new resident; before 2026-12-07 the
        # bench's kernel was not started and wrote none).
        kernel.start()
        database = _database_name(kernel.engine)
        committees = _tree(kernel)
        actor = _importer(kernel)
        with kernel.engine.connect() as connection:
            raw = _scratch_table(connection)
            raw_five = _scratch_table(connection, every_index=False)
        rows = _import_rows(committees, plan)
        unit_ids = {c.code: c.id for c in committees}
        imports: list[float] = []
        copies: list[float] = []
        five: list[float] = []
        floors: list[float] = []
        floor = _StorageFloor(kernel.engine) if kernel.engine.dialect.name == "postgresql" else None
        # CPU seconds of this process and of the database's backends, per step.
        cpu: dict[int, list[tuple[float, float]]] = {
            id(imports): [],
            id(copies): [],
            id(five): [],
            id(floors): [],
        }
        clock = ServerClock.open(kernel.engine)
        generated = encrypted = 0.0
        next_id = 1
        for number in range(plan.import_files):
            began = time.perf_counter()
            chunk = list(itertools.islice(rows, plan.import_rows))
            generated += time.perf_counter() - began
            data = _csv_bytes(chunk)
            began = time.perf_counter()
            prepared = _encrypted(kernel.residents.cipher, chunk, unit_ids, next_id)
            encrypted += time.perf_counter() - began
            next_id += len(chunk)
            # Alternate which goes first, so that neither always runs on a warmer database.
            steps: list[tuple[list[float], Callable[[], Any]]] = [
                (imports, lambda d=data: _apply(apply_import, kernel, actor, d)),
                (copies, lambda p=prepared: raw(p)),
                (five, lambda p=prepared: raw_five(p)),
            ]
            ordered = steps if number % 2 == 0 else steps[::-1]
            if floor is not None:
                # The floor writes what this file's import wrote, so it comes right after it.
                at = [timings for timings, _ in ordered].index(imports)
                ordered.insert(at + 1, (floors, floor.write))
            for timings, step in ordered:
                if timings is floors:
                    assert floor is not None
                    floor.prepare()  # read back into memory, not timed
                server = clock.sample() if clock else {}
                own = time.process_time()
                began = time.perf_counter()
                step()
                timings.append(time.perf_counter() - began)
                own = time.process_time() - own
                after = clock.sample() if clock else {}
                backends = sum(ns - server.get(pid, 0) for pid, ns in after.items()) / 1e9
                cpu[id(timings)].append((own, backends))
            _say(f"imported file {number + 1} of {plan.import_files}")
        with kernel.engine.connect() as connection:
            loaded = connection.execute(text("SELECT count(*) FROM kernel_resident")).scalar()
    finally:
        if clock is not None:
            clock.close()
        kernel.close()
    total = plan.import_files * plan.import_rows
    if loaded != total:
        raise RuntimeError(f"{loaded} residents imported, {total} expected")
    method = "COPY" if database.startswith("PostgreSQL") else "executemany"
    literal = Result(
        name="residents-import",
        title=f"import of {total:,} generated residents as {plan.import_files} CSV files of "
        f"{plan.import_rows:,} vs raw {method} of the same rows, seconds per file",
        baseline=_figure(f"raw {method}", copies, "s"),
        subject=_figure("apply_import", imports, "s"),
        command=command,
        notes=(
            f"{database}; totals: import {sum(imports):.1f} s "
            f"({total / sum(imports):,.0f} rows/s), raw {method} {sum(copies):.1f} s",
            f"vs the older baseline (raw {method} into a table with the primary key and four "
            f"of kernel_resident's indexes, as before 2026-12-06): {median(five):.2f} s "
            f"per file, ratio {median(imports) / median(five):.2f}x",
            _cpu_note(cpu[id(imports)], cpu[id(copies)], method, bool(clock)),
            f"generating the {total:,} rows (generate_rows) took {generated:.1f} s; encrypting "
            f"them for the copy (not timed) {encrypted:.1f} s",
            "the import also validates every row, looks ID numbers up, writes addresses, "
            "households, tags, history, outbox events and their deliveries (the started "
            "kernel's subscribers); the copy writes resident rows only, into a table with the "
            "same indexes and no foreign keys",
            "importer: an actor holding residents.import on the whole city (built-in roles "
            "hold it at street level at most)",
        ),
    )
    if floor is None:
        return [literal]
    return [
        literal,
        Result(
            name="residents-import-floor",
            title="the same import vs the storage floor: raw COPY of every row it wrote "
            "(residents, history, households, addresses, tags, tallies, events, audit), "
            "seconds per file",
            baseline=_figure("storage floor COPY", floors, "s"),
            subject=_figure("apply_import", imports, "s"),
            command=command,
            notes=(
                f"per file: {floor.summary()}",
                _cpu_note(cpu[id(imports)], cpu[id(floors)], "floor COPY", bool(clock)),
                "what the import's own work (reading, checking, encrypting, matching, the "
                "statements around its writes) costs over storing its output; the literal "
                "goal of issue 20 is the ratio above (residents-import)",
                "the floor's rows are read back from the import's transaction (xmin) as COPY "
                "text and held in memory, so the copy spends no Python per row; each table is "
                "a copy of the real one with its indexes, no foreign keys; the tally rows an "
                "import updates go into an emptied copy (COPY cannot update)",
            ),
        ),
    ]


def _cpu_note(
    imports: list[tuple[float, float]], copies: list[tuple[float, float]], method: str, pg: bool
) -> str:
    """The CPU seconds per file of both sides: the steadier figure on a busy machine."""

    def side(values: list[tuple[float, float]]) -> tuple[float, float]:
        return median([v[0] for v in values]), median([v[1] for v in values])

    (own, server), (raw_own, raw_server) = side(imports), side(copies)
    if not pg:
        return (
            f"CPU per file (this process; SQLite works in it): import {own:.2f} s, raw "
            f"{method} {raw_own:.2f} s, ratio {own / raw_own:.2f}x"
        )
    return (
        f"CPU per file, this process + PostgreSQL's backends: import {own:.2f} + {server:.2f} s, "
        f"raw {method} {raw_own:.2f} + {raw_server:.2f} s; ratio of the sums "
        f"{(own + server) / (raw_own + raw_server):.2f}x, of the backends alone "
        f"{server / raw_server:.2f}x"
    )


def _apply(apply_import: Any, kernel: Any, actor: Any, data: bytes) -> None:
    report = apply_import(kernel, actor, data, "居民.csv", max_rows=200_000)
    if not report.applied:
        raise RuntimeError(f"the import was refused: {report.to_dict()['errors'][:5]}")


def _import_rows(committees: list[Any], plan: Plan) -> Iterator[dict[str, Any]]:
    from shequyun.residents.generate import generate_rows

    total = plan.import_files * plan.import_rows
    per, extra = divmod(total, len(committees))
    sizes = {c.code: per + (1 if i < extra else 0) for i, c in enumerate(committees)}
    return generate_rows(committees, sizes, IMPORT_SEED)


_HEADER = ("所属居委编码", "姓名", "性别", "出生日期", "身份证号", "联系电话", "户籍类型",
           "小区", "楼栋", "单元", "室", "户号", "标签")  # fmt: skip


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_HEADER)
    for r in rows:
        a = r["address"]
        writer.writerow(
            (r["unit_code"], r["name"], r["gender"], r["birth_date"], r["id_number"],
             r["phone"] or "", r["registration"], a["compound"], a["building"], a["entrance"],
             a["room"], r["household_number"], "、".join(r["tags"]))
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8-sig")


_REGISTRATIONS = {"户籍": "huji", "常住": "changzhu", "流动": "liudong"}
_COPY_COLUMNS = (
    "id", "unit_id", "name", "gender", "birth_date", "id_number_enc", "id_number_hash",
    "id_number_masked", "phone_enc", "phone_hash", "phone_masked", "registration", "address_id",
    "household_id", "extra", "status", "version", "created_at", "updated_at",
)  # fmt: skip


def _encrypted(
    cipher: Any, rows: list[dict[str, Any]], unit_ids: dict[str, int], first_id: int
) -> list[tuple[Any, ...]]:
    """The rows as ``kernel_resident`` holds them, encrypted, hashed and masked."""
    from datetime import UTC, date, datetime

    from shequyun.residents.idnumber import mask_id, mask_phone

    now = datetime.now(UTC).isoformat(sep=" ")
    prepared = []
    for offset, r in enumerate(rows):
        number, phone = r["id_number"], r["phone"]
        prepared.append(
            (
                first_id + offset,
                unit_ids[r["unit_code"]],
                r["name"],
                "male" if r["gender"] == "男" else "female",
                date.fromisoformat(r["birth_date"]).isoformat(),
                cipher.encrypt(number),
                cipher.lookup_hash(number),
                mask_id(number),
                cipher.encrypt(phone) if phone else None,
                cipher.lookup_hash(phone) if phone else None,
                mask_phone(phone) if phone else None,
                _REGISTRATIONS[r["registration"]],
                first_id + offset,  # address and household: the table has no foreign keys
                first_id + offset,
                "{}",
                "active",
                1,
                now,
                now,
            )
        )
    return prepared


def _scratch_table(
    connection: Any, *, every_index: bool = True
) -> Callable[[list[tuple[Any, ...]]], None]:
    """Create a scratch table shaped like ``kernel_resident``, with every index it has (or, with
    ``every_index`` false, the five the older baseline had), no foreign keys; return a function
    writing rows into it the raw way, each call committed."""
    table = "bench_resident_copy" if every_index else "bench_resident_copy5"
    connection.execute(text(f"CREATE TABLE {table} AS SELECT * FROM kernel_resident WHERE 1 = 0"))
    if every_index:
        for (definition,) in connection.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'kernel_resident'"
                if connection.dialect.name == "postgresql"
                else "SELECT sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'kernel_resident' AND sql IS NOT NULL"
            )
        ):
            head, _, rest = definition.partition(" ON ")
            name = head.split()[-1].split(".")[-1].strip('"')
            rest = rest.split("kernel_resident", 1)[1]
            head = head.replace(name, f"bench_{name}")
            connection.execute(text(f"{head} ON {table}{rest}"))
        if connection.dialect.name == "sqlite":  # the primary key is not an index row there
            connection.execute(text(f"CREATE UNIQUE INDEX bench_copy_pk ON {table} (id)"))
    else:
        for name, columns in (
            ("pk", "id"),
            ("unit_name", "unit_id, name"),
            ("unit_birth", "unit_id, birth_date"),
            ("id_hash", "id_number_hash"),
            ("phone_hash", "phone_hash"),
        ):
            unique = "UNIQUE " if name == "pk" else ""
            connection.execute(text(f"CREATE {unique}INDEX bench5_{name} ON {table} ({columns})"))
    connection.commit()
    engine = connection.engine
    names = ", ".join(_COPY_COLUMNS)

    def write(rows: list[tuple[Any, ...]]) -> None:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if conn.dialect.name == "postgresql":
                statement = f"COPY {table} ({names}) FROM STDIN"
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in _COPY_COLUMNS)
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            conn.commit()

    return write


class _StorageFloor:
    """Copies of the tables an import writes (indexes, no foreign keys), and the rows the last
    import wrote, read back as COPY text to write into them again the raw way."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables: list[str] = []
        self.rows: dict[str, int] = {}
        self.written: dict[str, bytes] = {}
        with engine.begin() as connection:
            self.tables = list(
                connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename NOT LIKE 'bench_%' AND tablename <> 'alembic_version'"
                    )
                ).scalars()
            )
            for table in self.tables:
                connection.execute(
                    text(
                        f"CREATE TABLE bench_floor_{table} (LIKE {table} INCLUDING DEFAULTS "
                        "INCLUDING INDEXES INCLUDING CONSTRAINTS)"
                    )
                )

    def prepare(self) -> None:
        """Read back every row the newest import's transaction wrote, per table, as COPY
        text, and empty the copy of the tallies (an import updates the rows of earlier files,
        and COPY cannot update)."""
        self.written = self._read_back()
        with self.engine.begin() as connection:
            connection.execute(text("TRUNCATE bench_floor_kernel_resident_tally"))

    def _read_back(self) -> dict[str, bytes]:
        written: dict[str, bytes] = {}
        with self.engine.connect() as conn:
            xid = conn.execute(
                text("SELECT xmin::text FROM kernel_resident ORDER BY id DESC LIMIT 1")
            ).scalar_one()
            raw = conn.connection.driver_connection
            for table in self.tables:
                buffer = bytearray()
                statement = f"COPY (SELECT * FROM {table} WHERE xmin = '{xid}'::xid) TO STDOUT"
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    for chunk in copy:
                        buffer += chunk
                if buffer:
                    written[table] = bytes(buffer)
                    self.rows[table] = buffer.count(b"\n")
            conn.rollback()
        return written

    def write(self) -> None:
        """COPY the prepared rows into the copies, in one transaction."""
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:
                for table, data in self.written.items():
                    with cursor.copy(f"COPY bench_floor_{table} FROM STDIN") as copy:
                        copy.write(data)
            conn.commit()

    def summary(self) -> str:
        return ", ".join(
            f"{table.removeprefix('kernel_')} {n:,}"
            for table, n in sorted(self.rows.items(), key=lambda kv: -kv[1])
        )


def _importer(kernel: Any) -> Any:
    """An actor holding residents.import (and read/write) on the whole city."""
    from shequyun_sdk.identity import Actor
    from sqlmodel import Session

    from shequyun.identity.actors import issue
    from shequyun.identity.auth import unit_ref
    from shequyun.identity.directory import unit_by_code

    with Session(kernel.engine) as session:
        city = unit_by_code(session, "310000000000")
        assert city is not None
        return issue(
            Actor(
                user_id=None,
                username="bench.import",
                display_name="基准测试导入",
                grant_id=None,
                role=None,
                unit=unit_ref(city),
                permissions=frozenset({"residents.import", "residents.read", "residents.write"}),
                via="token",
            )
        )


# -- shared ---------------------------------------------------------------------------------


def _kernel(url: str, data_dir: Path) -> Any:
    """A kernel with the default plugins on ``url``, migrated."""
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, data_dir=data_dir, inline_worker=False)
    kernel = Kernel(settings, discover=False)
    kernel.upgrade_database()
    return kernel


def _tree(kernel: Any) -> list[Any]:
    """Shanghai's demo tree; its committees."""
    from sqlmodel import Session, col, select

    from shequyun.identity import demo_data
    from shequyun.identity.models import OrgUnit

    demo_data.load(kernel)
    with Session(kernel.engine, expire_on_commit=False) as session:
        committees = session.exec(
            select(OrgUnit).where(OrgUnit.level == "committee").order_by(col(OrgUnit.code))
        ).all()
    if len(committees) != demo_data.COMMITTEES:
        raise RuntimeError(f"the demo tree has {len(committees)} committees")
    return list(committees)


def _figure(label: str, values: list[float], unit: str) -> Figure:
    return Figure(label, median(values), unit, spread(values, f" {unit}"))


def _database_name(engine: Engine) -> str:
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            version = connection.exec_driver_sql("select sqlite_version()").scalar_one()
            return f"SQLite {version}"
        version = connection.exec_driver_sql("show server_version").scalar_one()
        return f"PostgreSQL {str(version).split()[0]}"


def _say(message: str) -> None:
    print(f"   ... {message}", file=sys.stderr, flush=True)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _reachable(server_url: str) -> bool:
    from sqlalchemy import create_engine

    url = make_url(server_url).set(database="postgres")
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def _temporary_postgres(server_url: str) -> Iterator[str]:
    """A fresh database on the server of ``server_url``, dropped afterwards."""
    from shequyun.db import make_engine

    server = make_url(server_url)
    name = f"shequyun_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(
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
    parser.add_argument("--quick", action="store_true", help="20,000 residents, fewer runs")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"the PostgreSQL server to create the temporary databases on ({DEFAULT_POSTGRES})",
    )
    parser.add_argument(
        "--import-only", action="store_true", help="only residents-import (no 1M-row pages)"
    )
    parser.add_argument(
        "--files", type=int, metavar="N", help="with --import-only: import N files (5; quick 2)"
    )
    parser.add_argument(
        "--rows",
        type=int,
        metavar="N",
        help="with --import-only: N rows per file (200,000, the import's limit; quick 10,000)",
    )
    args = parser.parse_args(argv)
    if (args.files or args.rows) and not args.import_only:
        parser.error("--files and --rows go with --import-only")
    for result in run(
        quick=args.quick,
        postgres_url=args.postgres,
        import_only=args.import_only,
        import_files=args.files,
        import_rows=args.rows,
    ):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
