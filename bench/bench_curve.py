"""The curve to 25 million: pages, searches, export, progress and import at 0.1M, 1M, 5M residents.

One PostgreSQL database grows through the sizes (``--sizes``; 100,000, 1,000,000 and 5,000,000
by default): Shanghai's demo tree (16 districts, 215 streets, 6,077 committees), residents
written by ``residents.generate_bulk.bulk_load`` (``COPY``, encrypted and hashed as the service
does, households, addresses and tags; ids shuffled as years of registrations leave them), then
``VACUUM ANALYZE`` as autovacuum would have done. At each size, the same paths:

- ``committee-page``: a cadre's first page of 50 through ``GET /api/v1/residents`` (its token);
- ``district-page``: the same for 徐汇区's district admin;
- ``district-count``: 徐汇区's first numbered page with its total (``numbered_page``, what the
  portal's 居民信息 list shows a district);
- ``id-search``: ``GET /api/v1/residents?id_number=`` as the district admin, a different
  existing person of 徐汇区 each time;
- ``name-search``: ``?q=`` with a full name of 徐汇区 as the district admin, and
  ``name-search-committee`` with a name of the cadre's committee as the cadre;
- ``progress``: ``GET /api/v1/campaigns/{id}/progress?level=street`` of a campaign to all 6,077
  committees (half submitted) as the district admin;
- ``export``: 徐汇区's residents as CSV through ``GET /api/v1/residents/export`` from a real
  uvicorn worker (1 worker, a fresh one per size): rows/s and the worker's peak memory over its
  memory before the export (``VmHWM``, reset through ``/proc/<pid>/clear_refs``);
- ``import``: a file of 10,000 new residents (at most a tenth of the size) for the committees of
  a street of 长宁区 through ``residents.importing.apply_import`` (all checks, ID-number matching,
  households, history, events): rows/s.

The in-process paths take turns within each round; each figure is the median over the rounds of
the mean wall time per call, with the CPU time per call (this process plus the database's
backends, ``_pgcpu.py``) beside it: on a busy machine the CPU time is the steadier figure. The
growth exponent k of each path (time ∝ residents^k) is taken from the CPU time of the two largest
sizes, 25M is extrapolated along it, and each path is judged against the data it touches: a page
touches 50 rows, so any growth is a defect; a district-wide scan touches the district, so k ≈ 1
is what it costs and more than that is a defect. The result of each path compares its largest
size with its smallest (ratio = growth). ``--quick`` runs 3,000 and 12,000 residents once. The
full run takes about an hour on a busy 2-core machine, most of it writing the 5 million.

    .venv/bin/python bench/run.py curve
    .venv/bin/python bench/bench_curve.py --sizes 20000,100000 --postgres URL   # iterate small
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import math
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import _scale_setup as setup
from _common import Figure, Result, median, reproduce

TARGET = 25_000_000
SEED = "curve"
DISTRICT = "310104000000"  # 徐汇区: its admin is a demo account
IMPORTED = "310105"  # 长宁区: the import goes to its first street, outside the measured district
PURPOSE = quote("性能基准测试")


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    rounds: int
    repeats: int
    import_rows: int


FULL = Plan((100_000, 1_000_000, 5_000_000), rounds=5, repeats=6, import_rows=10_000)
QUICK = Plan((3_000, 12_000), rounds=1, repeats=2, import_rows=300)


@dataclass(frozen=True)
class Path_:
    key: str
    title: str
    touches: str  # "fixed": a bounded number of rows whatever the size; else what it scans
    unit: str = "ms"


PATHS = (
    Path_("committee-page", "居委第一页 (cadre, API)", "fixed"),
    Path_("district-page", "区第一页 (district admin, API)", "fixed"),
    Path_("district-count", "区居民信息页带总数 (numbered_page)", "the district"),
    Path_("id-search", "身份证号精确查找 (district, API)", "fixed"),
    Path_("name-search", "姓名查找 (district, API)", "the district"),
    Path_("name-search-committee", "姓名查找 (committee, API)", "the committee"),
    Path_("progress", "任务进度 by street (district, API)", "fixed"),
    Path_("export", "区导出 CSV (uvicorn worker)", "the district", "rows/s"),
    Path_("import", "导入 (apply_import)", "fixed", "rows/s"),
)


@dataclass
class Point:
    """One path at one size: ``value`` in the path's unit, CPU ms per call where measured."""

    value: float
    cpu: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


def run(
    *, quick: bool = False, sizes: tuple[int, ...] | None = None, postgres_url: str | None = None
) -> list[Result]:
    plan = QUICK if quick else FULL
    if sizes:
        plan = Plan(tuple(sorted(sizes)), plan.rounds, plan.repeats, plan.import_rows)
    command = _command(quick, sizes)
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-curve-") as name:
        tmp = Path(name)
        with setup.database(postgres_url, tmp) as url:
            kernel = setup.kernel_on(url, tmp / "data")
            try:
                curve, meta = _curve(kernel, url, tmp, plan)
            finally:
                kernel.close()
    print(_table(curve, meta, command), flush=True)
    return _results(curve, meta, command)


# -- building and measuring -----------------------------------------------------------------


@dataclass
class World:
    kernel: Any
    committees: list[Any]
    cadre_token: str
    district_token: str
    district_actor: Any
    importer: Any
    campaign_id: int
    district_ids: list[int]
    cadre_unit_id: int


def _curve(
    kernel: Any, url: str, tmp: Path, plan: Plan
) -> tuple[dict[str, dict[int, Point]], dict[str, Any]]:
    world = _world(kernel)
    database = _database_name(kernel)
    curve: dict[str, dict[int, Point]] = {p.key: {} for p in PATHS}
    meta: dict[str, Any] = {
        "database": database,
        "sizes": plan.sizes,
        "load": {},
        "loaded": {},
        "district": {},
    }
    asgi = setup.Asgi(kernel)
    try:
        for size in plan.sizes:
            _grow(world, size, meta)
            meta["district"][size] = _count(kernel, world.district_ids)
            _say(f"{size:,} residents: timing the in-process paths")
            for key, point in _in_process(world, asgi, plan).items():
                curve[key][size] = point
            _say(f"{size:,} residents: exporting 徐汇区 from a uvicorn worker")
            curve["export"][size] = _export(world, url, tmp)
            _say(f"{size:,} residents: importing new residents")
            curve["import"][size] = _import(world, plan, size)
            meta["load"][size] = os.getloadavg()[0]
            done = Plan(tuple(s for s in plan.sizes if s <= size), *dataclasses.astuple(plan)[1:])
            _say("so far:\n" + _table(curve, {**meta, "sizes": done.sizes}, "(partial)"))
    finally:
        asgi.close()
    return curve, meta


def _world(kernel: Any) -> World:
    from bench_residents import _importer
    from sqlmodel import Session, select

    from shequyun.identity.models import Grant, OrgUnit, User

    committees = setup.tree(kernel)
    with Session(kernel.engine, expire_on_commit=False) as session:
        admin = session.exec(select(User).where(User.username == "xuhui.admin")).one()
        grant = session.exec(select(Grant).where(Grant.user_id == admin.id)).one()
        district = session.get(OrgUnit, grant.unit_id)
        actor = kernel.authenticator.actor_for(admin, grant, district, "session")
        cadre = session.exec(select(User).where(User.username == "tianping.cadre")).one()
    campaign_id = setup.open_campaign(kernel, ["310000000000"], "曲线基准任务", submitted=0.5)
    return World(
        kernel=kernel,
        committees=committees,
        cadre_token=setup.token_for(kernel, "tianping.cadre"),
        district_token=setup.token_for(kernel, "xuhui.admin"),
        district_actor=actor,
        importer=_importer(kernel),
        campaign_id=campaign_id,
        district_ids=[c.id for c in committees if c.code[:6] == DISTRICT[:6]],
        cadre_unit_id=cadre.home_unit_id,
    )


def _grow(world: World, size: int, meta: dict[str, Any]) -> None:
    from shequyun.residents.generate_bulk import bulk_load

    kernel = world.kernel
    have = _count(kernel, None)
    if size > have:
        _say(f"writing {size - have:,} residents (bulk_load) to reach {size:,}")
        stats = bulk_load(
            kernel.engine, kernel.residents.cipher, world.committees, size - have, f"{SEED}:{size}"
        )
        meta["loaded"][size] = (stats.residents, stats.seconds)
    if kernel.engine.dialect.name == "postgresql":
        with kernel.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "VACUUM ANALYZE kernel_resident, kernel_address, kernel_household, "
                "kernel_resident_tag"
            )


def _count(kernel: Any, unit_ids: list[int] | None) -> int:
    from sqlalchemy import bindparam, text

    with kernel.engine.connect() as connection:
        if unit_ids is None:
            return int(
                connection.execute(text("SELECT count(*) FROM kernel_resident")).scalar_one()
            )
        query = text("SELECT count(*) FROM kernel_resident WHERE unit_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        return int(connection.execute(query, {"ids": unit_ids}).scalar_one())


def _sample(world: World, unit_ids: list[int], count: int) -> list[tuple[str, str]]:
    """``count`` random active residents of these committees: (name, ID number)."""
    from sqlalchemy import bindparam, text

    query = text(
        "SELECT name, id_number_enc FROM kernel_resident WHERE unit_id IN :ids "
        "AND status = 'active' ORDER BY random() LIMIT :n"
    ).bindparams(bindparam("ids", expanding=True))
    cipher = world.kernel.residents.cipher
    with world.kernel.engine.connect() as connection:
        rows = connection.execute(query, {"ids": unit_ids, "n": count}).all()
    return [(name, cipher.decrypt(enc)) for name, enc in rows]


def _in_process(world: World, asgi: setup.Asgi, plan: Plan) -> dict[str, Point]:
    from _pgcpu import ServerClock, timed
    from sqlmodel import Session

    from shequyun.residents.service import ResidentFilters

    kernel = world.kernel
    people = _sample(world, world.district_ids, 40)
    locals_ = _sample(world, [world.cadre_unit_id], 20) or people  # tiny sizes: none there
    turn = {"id": 0, "name": 0, "local": 0}

    def api(target: Any, token: str) -> Any:
        def work() -> None:
            status, body = asgi.get(target() if callable(target) else target, token)
            if status != 200:
                raise RuntimeError(f"GET {target} answered {status}: {body[:300]!r}")

        return work

    def following(kind: str, values: list[str], template: str) -> Any:
        def target() -> str:
            turn[kind] += 1
            return template.format(quote(values[turn[kind] % len(values)]))

        return target

    def counted() -> None:
        with Session(kernel.engine) as session:
            kernel.residents.numbered_page(session, world.district_actor, ResidentFilters())

    cadre, district = world.cadre_token, world.district_token
    kinds = {
        "committee-page": api("/api/v1/residents?limit=50", cadre),
        "district-page": api("/api/v1/residents?limit=50", district),
        "district-count": counted,
        "id-search": api(
            following("id", [p[1] for p in people], "/api/v1/residents?id_number={}"), district
        ),
        "name-search": api(
            following("name", [p[0] for p in people], "/api/v1/residents?q={}"), district
        ),
        "name-search-committee": api(
            following("local", [p[0] for p in locals_], "/api/v1/residents?q={}"), cadre
        ),
        "progress": api(f"/api/v1/campaigns/{world.campaign_id}/progress?level=street", district),
    }
    for work in kinds.values():  # warm up, and fail early on a refusal
        work()
    clock = ServerClock.open(kernel.engine)
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    try:
        for number in range(plan.rounds):
            for key in kinds if number % 2 == 0 else reversed(list(kinds)):
                wall, cpu = timed(kinds[key], plan.repeats, clock)
                walls[key].append(wall)
                cpus[key].append(cpu)
    finally:
        if clock is not None:
            clock.close()
    return {k: Point(median(walls[k]), median(cpus[k]) if clock else None) for k in kinds}


def _export(world: World, url: str, tmp: Path) -> Point:
    """徐汇区 as CSV from a fresh one-worker uvicorn: rows/s and the worker's memory."""
    target = f"/api/v1/residents/export?format=csv&purpose={PURPOSE}"
    small = f"{target}&unit={world.committees[0].code}"
    with setup.serve(url, tmp / "data", 1, tmp / "export.log") as server:
        port = server.port  # type: ignore[attr-defined]
        _download(port, small, world.district_token)  # imports and warms the export's path
        before = setup.memory_kib(server.pid)
        reset = setup.reset_peak(server.pid)
        began = time.perf_counter()
        rows, size = _download(port, target, world.district_token)
        seconds = time.perf_counter() - began
        after = setup.memory_kib(server.pid)
    peak = after.get("VmHWM", 0) if reset else max(after.get("VmHWM", 0), after.get("VmRSS", 0))
    return Point(
        rows / seconds,
        extra={
            "rows": rows,
            "seconds": seconds,
            "mb": size / 1e6,
            "rss_mib": before.get("VmRSS", 0) / 1024,
            "peak_mib": peak / 1024,
            "growth_mib": (peak - before.get("VmRSS", 0)) / 1024,
        },
    )


def _download(port: int, target: str, token: str) -> tuple[int, int]:
    """GET ``target`` and read it to the end: (data rows, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    try:
        connection.request("GET", target, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"export answered {response.status}: {response.read()[:300]!r}")
        size = lines = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
        rows = int(response.getheader("X-Row-Count") or -1)
    finally:
        connection.close()
    if rows != lines - 1:
        raise RuntimeError(f"the export said {rows} rows and sent {lines - 1}")
    return rows, size


def _import(world: World, plan: Plan, size: int) -> Point:
    """New residents for the committees of one street of 长宁区: rows/s of apply_import. The
    file holds ``plan.import_rows`` rows, at most a tenth of ``size``."""
    from bench_residents import _apply, _csv_bytes
    from sqlalchemy import bindparam, text

    from shequyun.residents.generate import generate_rows
    from shequyun.residents.importing import apply_import

    kernel = world.kernel
    first = next(c.code[:9] for c in world.committees if c.code[:6] == IMPORTED)
    street = [c for c in world.committees if c.code[:9] == first]
    wanted = min(plan.import_rows, max(100, size // 10))
    per, extra = divmod(wanted + wanted // 20, len(street))
    counts = {c.code: per + (1 if i < extra else 0) for i, c in enumerate(street)}
    rows = list(generate_rows(street, counts, f"{SEED}:import:{size}"))
    hashes = {kernel.residents.cipher.lookup_hash(r["id_number"]): r for r in rows}
    query = text("SELECT id_number_hash FROM kernel_resident WHERE id_number_hash IN :h")
    with kernel.engine.connect() as connection:
        taken = set(
            connection.execute(
                query.bindparams(bindparam("h", expanding=True)), {"h": list(hashes)}
            ).scalars()
        )
    fresh = [r for h, r in hashes.items() if h not in taken][:wanted]
    for row in fresh:  # households of their own: the committees' numbers are taken already
        row["household_number"] = f"导入{size}-{row['household_number']}"
    data = _csv_bytes(fresh)
    began = time.perf_counter()
    _apply(apply_import, kernel, world.importer, data)
    seconds = time.perf_counter() - began
    return Point(len(fresh) / seconds, extra={"rows": len(fresh), "seconds": seconds})


# -- reading the curve ----------------------------------------------------------------------


def _exponent(curve: dict[int, Point], sizes: tuple[int, ...], rate: bool) -> float | None:
    """k in time ∝ residents^k between the two largest sizes (CPU time where measured)."""
    have = [s for s in sizes if s in curve]
    if len(have) < 2:
        return None
    small, large = have[-2], have[-1]

    def cost(point: Point) -> float:
        if rate:
            return 1 / point.value
        return point.cpu if point.cpu is not None else point.value

    return math.log(cost(curve[large]) / cost(curve[small])) / math.log(large / small)


def _verdict(path: Path_, k: float | None, rate: bool) -> str:
    if k is None:
        return "one size only"
    if path.key == "export":  # rows/s: the time per row, whatever the district's size
        return "rows/s flat: time grows with the district" if k < 0.2 else _defect(k, "per row")
    expected = 0.0 if path.touches == "fixed" else 1.0
    growth = (
        "flat" if k < 0.2 else "grows slower than the data" if k < 0.8 else "grows with the data"
    )
    if k > expected + 0.3:
        return _defect(
            k, f"touches {'a bounded number of rows' if expected == 0 else path.touches}"
        )
    return f"{growth} (touches {'a bounded number of rows' if expected == 0 else path.touches})"


def _defect(k: float, why: str) -> str:
    return f"DEFECT: k={k:.2f}, grows faster than the data it touches ({why})"


def _extrapolate(
    curve: dict[int, Point], sizes: tuple[int, ...], k: float | None, rate: bool
) -> float | None:
    have = [s for s in sizes if s in curve]
    if k is None or not have:
        return None
    last = curve[have[-1]]
    factor = (TARGET / have[-1]) ** k
    return last.value / factor if rate else last.value * factor


def _table(curve: dict[str, dict[int, Point]], meta: dict[str, Any], command: str) -> str:
    sizes: tuple[int, ...] = meta["sizes"]
    head = ["path", *[_size(s) for s in sizes], "k", f"{_size(TARGET)} (extrapolated)", "verdict"]
    lines = [
        f"== the curve to {_size(TARGET)} ({meta['database']}; "
        "wall ms per call, CPU ms in brackets)",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for path in PATHS:
        rate = path.unit == "rows/s"
        points = curve[path.key]
        k = _exponent(points, sizes, rate)
        cells = [_cell(points.get(s), path.unit) for s in sizes]
        guess = _extrapolate(points, sizes, k, rate)
        shown = "" if guess is None else f"{guess:,.0f} {path.unit}" if rate else f"{guess:,.1f} ms"
        lines.append(
            f"| {path.title} | " + " | ".join(cells) + f" | {'' if k is None else f'{k:.2f}'} | "
            f"{shown} | {_verdict(path, k, rate)} |"
        )
    memory = [curve["export"][s].extra for s in sizes if s in curve["export"]]
    lines.append(
        "| 导出 worker 内存 (RSS before → peak, MiB) | "
        + " | ".join(f"{m['rss_mib']:.0f} → {m['peak_mib']:.0f}" for m in memory)
        + " | | | peak − before: "
        + ", ".join(f"{m['growth_mib']:+.0f}" for m in memory)
        + " MiB |"
    )
    lines.append(
        "| 徐汇区 residents (export rows) | "
        + " | ".join(f"{meta['district'][s]:,}" for s in sizes)
        + f" | | {meta['district'][sizes[-1]] * TARGET // sizes[-1]:,} | |"
    )
    for size in sizes:
        loaded = meta["loaded"].get(size)
        wrote = (
            f"wrote {loaded[0]:,} in {loaded[1]:.0f} s ({loaded[0] / loaded[1]:,.0f}/s); "
            if loaded
            else ""
        )
        export = curve["export"][size].extra
        lines.append(
            f"   {_size(size)}: {wrote}export {export['rows']:,.0f} rows, {export['mb']:.1f} MB in "
            f"{export['seconds']:.1f} s; import {curve['import'][size].extra['rows']:,.0f} rows in "
            f"{curve['import'][size].extra['seconds']:.1f} s; "
            f"load average {meta['load'][size]:.1f} "
            f"on {os.cpu_count()} cores"
        )
    lines.append(f"   reproduce {command}")
    return "\n".join(lines)


def _cell(point: Point | None, unit: str) -> str:
    if point is None:
        return ""
    if unit == "rows/s":
        return f"{point.value:,.0f}"
    return f"{point.value:,.1f}" + (f" ({point.cpu:,.1f})" if point.cpu is not None else "")


def _results(
    curve: dict[str, dict[int, Point]], meta: dict[str, Any], command: str
) -> list[Result]:
    sizes: tuple[int, ...] = meta["sizes"]
    results = []
    for path in PATHS:
        points = curve[path.key]
        if len(points) < 2:
            continue
        rate = path.unit == "rows/s"
        small, large = sizes[0], sizes[-1]
        k = _exponent(points, sizes, rate)
        results.append(
            Result(
                name=f"curve-{path.key}",
                title=f"{path.title}: {_size(large)} residents vs {_size(small)} "
                f"(data x{large // small})",
                baseline=Figure(f"{_size(small)} residents", points[small].value, path.unit),
                subject=Figure(f"{_size(large)} residents", points[large].value, path.unit),
                command=command,
                notes=(f"k = {k:.2f} between the two largest sizes; {_verdict(path, k, rate)}",),
            )
        )
    return results


def _size(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def _database_name(kernel: Any) -> str:
    from bench_residents import _database_name as name

    return str(name(kernel.engine))


def _command(quick: bool, sizes: tuple[int, ...] | None) -> str:
    command = reproduce("curve", quick=quick)
    if sizes:
        command = f"{sys.executable} bench/bench_curve.py --sizes {','.join(map(str, sizes))}"
    server = os.environ.get("SHEQUYUN_BENCH_DATABASE_URL")
    return f"SHEQUYUN_BENCH_DATABASE_URL={shlex.quote(server)} {command}" if server else command


def _say(message: str) -> None:
    print(f"   ... {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3,000 and 12,000 residents, once")
    parser.add_argument("--sizes", help="comma-separated numbers of residents, e.g. 20000,100000")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL server to use")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    for result in run(quick=args.quick, sizes=sizes, postgres_url=args.postgres):
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
