"""Duplicate candidates: what comparing names as folded (陳/陈, 阿卜杜•热合曼/·) adds to the search.

The full run writes 1,000,000 generated residents into 徐汇区's committees with
``residents.generate_bulk.bulk_load`` (as ``bench_quality`` does) and then rewrites one name in
a thousand: the record next to it by id becomes its twin, with its gender and birth date and its
name as another committee might have typed it (traditional forms, a space, an ideographic
space). Then, alternating within each round, every pair is deleted and found again:

- ``quality-duplicates`` — subject: ``Duplicates.find()``, the set-based SQL over names as
  written plus the pass over folded names (:func:`shequyun.quality.names.variant_pairs`: the
  names streamed once, the few that fold looked up by the name index); baseline:
  ``Duplicates.find(variants=False)``, the SQL alone. The ratio is what the folded comparison
  costs the daily job.

PostgreSQL as in ``bench_quality`` (a temporary database on ``SHEQUYUN_BENCH_DATABASE_URL`` or
the local server, SQLite when none answers). ``--quick``: 20,000 residents, one round.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
import time
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

SEED = 2122
FULL, QUICK = (1_000_000, 3), (20_000, 1)
#: How the rewritten names differ from what bulk_load wrote (one in a thousand, by id).
SPELLINGS = {0: "traditional", 1: "space", 2: "ideographic space"}


def run(
    *, quick: bool = False, postgres_url: str | None = None, residents: int | None = None
) -> list[Result]:
    size, rounds = QUICK if quick else FULL
    residents = residents or size
    server = postgres_url or os.environ.get(DATABASE_VARIABLE) or DEFAULT_POSTGRES
    command = reproduce("duplicates", quick=quick)
    if residents != size:
        command = f".venv/bin/python bench/bench_duplicates.py --residents {residents}"
    if os.environ.get(DATABASE_VARIABLE):
        command = f"{DATABASE_VARIABLE}={shlex.quote(_shown(server))} {command}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shequyun-bench-d-")))
        notes: tuple[str, ...] = ()
        if _reachable(server):
            url = stack.enter_context(_temporary_postgres(server))
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
            notes = (f"no PostgreSQL at {_shown(server)}: SQLite instead",)
        return [_measure(url, tmp, residents, rounds, command, notes)]


def _measure(
    url: str, tmp: Path, residents: int, rounds: int, command: str, notes: tuple[str, ...]
) -> Result:
    from shequyun.kernel import Kernel
    from shequyun.residents.generate_bulk import bulk_load
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, data_dir=tmp, inline_worker=False)
    kernel = Kernel(settings, discover=False)
    try:
        kernel.upgrade_database()
        database = _database_name(kernel.engine)
        _, streets, committees = _tree(kernel)
        _say(f"writing {residents:,} residents into 徐汇区 with bulk_load on {database}")
        stats = bulk_load(kernel.engine, kernel.residents.cipher, committees, residents, SEED)
        rewritten = _respell(kernel)
        _analyze(kernel)
        subject, baseline, counts = [], [], (0, 0)
        for _ in range(rounds):
            baseline.append(_timed(kernel, variants=False))
            subject.append(_timed(kernel, variants=True))
            counts = (baseline[-1][1], subject[-1][1])
    finally:
        kernel.close()
    where = (
        f"{database}; 徐汇区: {len(streets)} streets, {len(committees)} committees, "
        f"{stats.residents:,} residents, {rewritten:,} twins with their names respelt"
    )
    return Result(
        name="quality-duplicates",
        title=f"duplicate candidates over {stats.residents:,} residents, median of {rounds}",
        baseline=_figure("names as written", [ms for ms, _ in baseline]),
        subject=_figure("and folded names", [ms for ms, _ in subject]),
        command=command,
        notes=(
            *notes,
            where,
            f"pairs found: {counts[0]:,} as written, {counts[1]:,} with folded names",
        ),
    )


def _respell(kernel: Any) -> int:
    """One record in a thousand gets a twin: its neighbour by id takes its gender, birth date and
    name as another committee might have typed it."""
    from shequyun.quality.names import SIMPLIFIED, TRADITIONAL

    back = dict(zip(SIMPLIFIED, TRADITIONAL, strict=True))
    changed = 0
    with kernel.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, name, gender, birth_date FROM kernel_resident WHERE id % 1000 = 7")
        ).all()
        for number, (resident_id, name, gender, born) in enumerate(rows):
            how = SPELLINGS[number % 3]
            if how == "traditional" and any(c in back for c in name):
                twin = "".join(back.get(c, c) for c in name)
            elif how == "space" or how == "traditional":
                twin = f"{name[0]} {name[1:]}"
            else:
                twin = f"{name[0]}\u3000{name[1:]}"
            changed += connection.execute(
                text(
                    "UPDATE kernel_resident SET name = :name, gender = :gender, "
                    "birth_date = :born WHERE id = :id"
                ),
                {"name": twin, "gender": gender, "born": born, "id": resident_id + 1},
            ).rowcount
    return changed


def _timed(kernel: Any, *, variants: bool) -> tuple[float, int]:
    with kernel.engine.begin() as connection:
        connection.execute(text("DELETE FROM kernel_quality_duplicate"))
    began = time.perf_counter()
    found = kernel.quality.duplicates.find(variants=variants)
    return (time.perf_counter() - began) * 1000, found


def _figure(label: str, times: list[float]) -> Figure:
    return Figure(label, median(times), "ms", spread(times, " ms"))


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
