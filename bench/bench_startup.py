"""App start-up time with 0 plugins vs 20 generated no-op plugins, cold, in fresh processes.

The 20 plugins are written to a temporary directory as tiny packages, each with a
``*.dist-info`` whose ``entry_points.txt`` names it in the ``shequyun.plugins`` group: the
kernel discovers them through entry points exactly as it discovers installed wheels. Every
measurement runs in a new interpreter with that directory on ``PYTHONPATH`` (an empty directory
for the baseline), so scanning metadata and importing the plugins are counted. The database is
a fresh SQLite file, migrated once before the runs.
"""

from __future__ import annotations

import compileall
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    PYTHON,
    Figure,
    Result,
    clean_env,
    median,
    migrate,
    reproduce,
    run_json,
    spread,
)

PLUGINS = 20
RUNS, QUICK_RUNS = 9, 3
PHASES = ("import", "create_app", "start")  # as timed by _startup_child.py
TIMEOUT = 120.0

PLUGIN_SOURCE = '''\
"""A generated no-op plugin for the start-up benchmark."""

from shequyun_sdk import hookimpl

MANIFEST = {{
    "name": "{name}",
    "version": "0.1.0",
    "title": {{"zh": "基准插件 {number}", "en": "Benchmark plugin {number}"}},
    "description": {{"zh": "什么也不做", "en": "Does nothing"}},
    "sdk": ">=0.1,<0.2",
}}


@hookimpl
def register_routes(plugin):
    return []


@hookimpl
def register_nav(plugin):
    return []


@hookimpl
def on_startup(plugin, platform):
    return None
'''


def run(*, quick: bool = False) -> list[Result]:
    runs = QUICK_RUNS if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-startup-") as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        migrate(data_dir)
        empty = root / "empty"
        empty.mkdir()
        names = write_plugins(root / "site", PLUGINS)
        cases = {0: (empty, []), PLUGINS: (root / "site", names)}
        samples: dict[int, list[dict[str, Any]]] = {count: [] for count in cases}
        # One unrecorded run per case first (OS file cache, bytecode), then alternate the cases
        # so that drift in the machine's speed hits both alike.
        for path, allowed in cases.values():
            _start_once(root, data_dir, path, allowed)
        for _ in range(runs):
            for count, (path, allowed) in cases.items():
                samples[count].append(_start_once(root, data_dir, path, allowed))
    command = reproduce("startup", quick=quick)
    note = f"{PLUGINS} no-op plugins found through entry points, a fresh process per run"
    return [
        Result(
            name="startup",
            title=f"cold start-up: import + create_app + lifespan start, median of {runs}",
            baseline=_figure("0 plugins", samples[0], PHASES),
            subject=_figure(f"{PLUGINS} plugins", samples[PLUGINS], PHASES),
            command=command,
            notes=(note,),
        ),
        # Importing the kernel dominates the total and is the same in both cases; this is
        # where the plugins' cost shows: discovering, importing, validating, calling hooks.
        Result(
            name="startup-app",
            title=f"create_app + lifespan start only (kernel import excluded), median of {runs}",
            baseline=_figure("0 plugins", samples[0], PHASES[1:]),
            subject=_figure(f"{PLUGINS} plugins", samples[PLUGINS], PHASES[1:]),
            command=command,
            notes=(note,),
        ),
    ]


def write_plugins(site: Path, count: int) -> list[str]:
    """Write ``count`` no-op plugin distributions into ``site``, as pip would install them."""
    names = []
    for number in range(1, count + 1):
        name = f"bench_noop_{number:02d}"
        package = site / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            PLUGIN_SOURCE.format(name=name, number=number), encoding="utf-8"
        )
        dist_info = site / f"{name}-0.1.0.dist-info"
        dist_info.mkdir()
        dist = name.replace("_", "-")
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n"
            "Requires-Dist: shequyun-sdk<0.2,>=0.1\n",
            encoding="utf-8",
        )
        (dist_info / "entry_points.txt").write_text(
            f"[shequyun.plugins]\n{name} = {name}\n", encoding="utf-8"
        )
        (dist_info / "top_level.txt").write_text(f"{name}\n", encoding="utf-8")
        (dist_info / "INSTALLER").write_text("bench\n", encoding="utf-8")
        names.append(name)
    # pip compiles bytecode when it installs a wheel; so do we.
    compileall.compile_dir(site, quiet=1)
    return names


def _start_once(root: Path, data_dir: Path, path: Path, names: list[str]) -> dict[str, Any]:
    sample = run_json(
        [PYTHON, str(BENCH / "_startup_child.py"), str(data_dir), *names],
        env=clean_env(PYTHONPATH=str(path)),
        cwd=root,  # away from any shequyun.toml in the caller's directory
        timeout=TIMEOUT,
    )
    if sample["plugins"] != len(names):
        raise RuntimeError(f"expected {len(names)} plugins to load, got {sample['plugins']}")
    return sample


def _figure(label: str, samples: list[dict[str, Any]], phases: tuple[str, ...]) -> Figure:
    """The median over runs of the sum of ``phases``, with each phase's median beside it."""
    sums = [sum(s[phase + "_ms"] for phase in phases) for s in samples]
    parts = ", ".join(
        f"{phase} {median([s[phase + '_ms'] for s in samples]):.1f}" for phase in phases
    )
    return Figure(label, median(sums), "ms", f"{parts} ms; {spread(sums, ' ms')}")
