"""External apps: a page of the change feed at a million events, a district's vs the city's.

The feed holds 1,000,000 events (``--quick``: 50,000) spread evenly over 16 districts.
Subject: a 徐汇区 reader's page of 100 from a cursor in the middle (the district filter has to
skip the other fifteen districts' entries); baseline: the city's page of 100 from the same
cursor (no filter). Median milliseconds per page over rounds. The rows are written in bulk.

SQLite in a temporary directory; ``SHEQUYUN_BENCH_DATABASE_URL`` (a PostgreSQL server URL) runs
it on a temporary PostgreSQL database instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from _common import Figure, Result, median, reproduce, spread
from bench_apps import DATABASE_VARIABLE, _feed_pages


def run(*, quick: bool = False) -> list[Result]:
    size = 50_000 if quick else 1_000_000
    rounds = 5 if quick else 30
    where = "PostgreSQL" if os.environ.get(DATABASE_VARIABLE) else "SQLite"
    with tempfile.TemporaryDirectory() as directory:
        district, city = _feed_pages(Path(directory), size, rounds)
    return [
        Result(
            "feed",
            f"a page of 100 from the middle of {size:,} feed entries ({where}), median of {rounds}",
            Figure("city reader", median(city), "ms", spread(city, "ms")),
            Figure("徐汇区 reader (1/16)", median(district), "ms", spread(district, "ms")),
            reproduce("apps_feed", quick=quick),
        )
    ]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(result.report())
