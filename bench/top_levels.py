"""The top levels' pages on the demo data: 工作台 and 居民信息 as the city, 徐汇区, 天平路街道 and
a committee see them, server time per request, each level against the committee's page.

Issue 17 point 7: the city workbench took 3.4-5.7 s and the city resident list 1.7-2.7 s; the goal
is under 500 ms at every level on the demo data. The subject is a level's page, the baseline the
same page as the committee cadre sees it, measured in turns in one process on one database (a
demo database made by ``shequyun demo --no-serve``: its data directory as the argument, and
``--database-url`` when it lives in PostgreSQL), so the ratio says what reaching more units
costs and the absolute medians are printed for the goal.

Before/after a change: two versions of the code cannot serve one process, so ``--save FILE``
keeps a run's medians and a later run with ``--compare FILE`` prints each page's after/before
ratio beside its own figures (run the "before" with the old checkout, e.g.
``PYTHONPATH=<old>/kernel/src:<old>/sdk/src``, on a copy of the database it can still read).

    .venv/bin/python bench/top_levels.py /path/to/data_dir [--rounds 5]
        [--database-url postgresql+psycopg://...] [--save before.json | --compare before.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

from starlette.testclient import TestClient

USERS = (
    ("city", "admin"),
    ("district", "xuhui.admin"),
    ("street", "tianping.admin"),
    ("committee", "tianping.cadre"),
)
PAGES = ("/workbench", "/residents")


def log_in(app, username: str) -> TestClient:
    from shequyun.identity.demo_data import DEMO_PASSWORD

    client = TestClient(app)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    return client


def measure(data_dir: Path, database_url: str | None, rounds: int) -> dict[str, list[float]]:
    """Each page at each level, ``rounds`` times (after one warm-up round), in seconds."""
    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    overrides = {"database_url": database_url} if database_url else {}
    settings = load_settings(environ={}, data_dir=data_dir, inline_worker=False, **overrides)
    app = create_app(kernel=Kernel(settings, discover=True))
    times: dict[str, list[float]] = {}
    with TestClient(app):
        clients = {level: log_in(app, name) for level, name in USERS}
        for turn in range(rounds + 1):  # the first round warms caches and is not counted
            for path in PAGES:
                for level, _name in USERS:
                    start = time.perf_counter()
                    answer = clients[level].get(path)
                    took = time.perf_counter() - start
                    assert answer.status_code == 200, (level, path, answer.status_code)
                    if turn:
                        times.setdefault(f"{path} {level}", []).append(took)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="the demo's PostgreSQL database")
    parser.add_argument("--save", type=Path, help="keep this run's times (the 'before')")
    parser.add_argument("--compare", type=Path, help="a saved run to print after/before ratios")
    args = parser.parse_args()
    times = measure(args.data_dir, args.database_url, args.rounds)
    before = json.loads(args.compare.read_text()) if args.compare else {}
    database = "PostgreSQL" if args.database_url else "SQLite"
    for path in PAGES:
        base = statistics.median(times[f"{path} committee"])
        print(f"== {path} on {database}: median of {args.rounds} (server time in process, ms)")
        for level, _name in USERS:
            runs = times[f"{path} {level}"]
            mid = statistics.median(runs)
            line = (
                f"   {level:<10} {mid * 1000:8.1f} ms  (min {min(runs) * 1000:.1f}, "
                f"max {max(runs) * 1000:.1f})  ratio {level}/committee = {mid / base:.2f}x"
            )
            old = before.get(f"{path} {level}")
            if old:
                was = statistics.median(old)
                line += f"  after/before = {mid / was:.3f}x (before {was * 1000:.1f} ms)"
            print(line)
    if args.save:
        args.save.write_text(json.dumps(times, indent=1))
        print(f"   saved to {args.save}")
    print(f"   reproduce {shlex.join(['.venv/bin/python', *sys.argv])}")


if __name__ == "__main__":
    main()
