"""One cold start-up, timed from inside a fresh interpreter; run by ``bench_startup``.

    python bench/_startup_child.py DATA_DIR [PLUGIN_NAME ...]

Imports the kernel, builds the app with ``create_app`` (which discovers and imports the
plugins installed as distributions) and runs the app's lifespan start-up, then prints the
phases in milliseconds as one JSON line. Only the named plugins may load (``plugins_allowed``),
so plugins installed in the development environment do not leak into the figures.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402 - the clock starts before any import
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main(data_dir: Path, names: list[str]) -> None:
    from shequyun.app import create_app
    from shequyun.settings import load_settings

    imported = time.perf_counter()
    settings = load_settings(
        environ={}, data_dir=data_dir, inline_worker=False, plugins_allowed=tuple(names)
    )
    app = create_app(settings)
    created = time.perf_counter()
    started = asyncio.run(_start(app))

    records = app.state.kernel.host.records
    loaded = [r.name for r in records.values() if r.active and not r.builtin]
    broken = [f"{r.name}: {r.reason}" for r in records.values() if r.name in names and not r.active]
    if broken or sorted(loaded) != sorted(names):
        sys.exit("plugins did not all load: " + "; ".join(broken or loaded))
    print(
        json.dumps(
            {
                "import_ms": (imported - STARTED) * 1000,
                "create_app_ms": (created - imported) * 1000,
                "start_ms": (started - created) * 1000,
                "total_ms": (started - STARTED) * 1000,
                "plugins": len(loaded),
            }
        )
    )


async def _start(app: object) -> float:
    """Enter the app's lifespan as a server would; the time when start-up is complete."""
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        return time.perf_counter()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
