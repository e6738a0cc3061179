"""The top levels' pages on the demo data: 工作台 and 居民信息 as the city, 徐汇区, 天平路街道 and
a committee see them, server time per request, each level against the committee's page.

Issue 17 point 7: the city workbench took 3.4-5.7 s and the city resident list 1.7-2.7 s; the goal
is under 500 ms at every level on the demo data. The subject is a level's page, the baseline the
same page as the committee cadre sees it, measured in turns in one process on one database (a
demo database made by ``shequyun demo --no-serve``, path as the argument), so the ratio says
what reaching more units costs and the absolute medians are printed for the goal.

    .venv/bin/python bench/top_levels.py /path/to/data_dir [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
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
    import re

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, data_dir=args.data_dir, inline_worker=False)
    app = create_app(kernel=Kernel(settings, discover=True))
    with TestClient(app):
        clients = {level: log_in(app, name) for level, name in USERS}
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds + 1):  # the first round warms caches and is not counted
            for path in PAGES:
                for level, _name in USERS:
                    start = time.perf_counter()
                    answer = clients[level].get(path)
                    took = time.perf_counter() - start
                    assert answer.status_code == 200, (level, path, answer.status_code)
                    times.setdefault((level, path), []).append(took)
        for path in PAGES:
            base = statistics.median(times[("committee", path)][1:])
            print(f"== {path}: median of {args.rounds} (server time in process, ms)")
            for level, _name in USERS:
                runs = times[(level, path)][1:]
                mid = statistics.median(runs)
                print(
                    f"   {level:<10} {mid * 1000:8.1f} ms  (min {min(runs) * 1000:.1f}, "
                    f"max {max(runs) * 1000:.1f})  ratio {level}/committee = {mid / base:.2f}x"
                )
        print(f"   reproduce .venv/bin/python bench/top_levels.py {args.data_dir}")


if __name__ == "__main__":
    main()
