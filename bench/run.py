"""Run shequyun's benchmarks: every ``bench/bench_<name>.py``, or only the ones named.

    .venv/bin/python bench/run.py                 # all of them (also: ./dev bench)
    .venv/bin/python bench/run.py startup         # only bench_startup.py
    .venv/bin/python bench/run.py --quick         # fewer, shorter runs: a smoke test
    .venv/bin/python bench/run.py --list

Exits 1 when a benchmark fails (its traceback is printed and the others still run), 2 for an
unknown name. See bench/README.md for the convention.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
import time
import traceback

from _common import BENCH, Result


def available() -> dict[str, str]:
    """Every benchmark's name and the first line of its docstring."""
    found = {}
    for path in sorted(BENCH.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        found[name] = _first_line(path.read_text(encoding="utf-8"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run shequyun's benchmarks.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (smoke test)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    benchmarks = available()
    if args.list:
        for name, summary in benchmarks.items():
            print(f"{name:<12} {summary}")
        return 0
    unknown = [n for n in args.names if n not in benchmarks]
    if unknown:
        known = ", ".join(benchmarks)
        print(f"unknown benchmark {', '.join(unknown)}; known: {known}", file=sys.stderr)
        return 2

    results: list[Result] = []
    failed: list[str] = []
    for name in args.names or list(benchmarks):
        print(f"-- running {name}{' (quick)' if args.quick else ''}", flush=True)
        began = time.perf_counter()
        try:
            module = importlib.import_module(f"bench_{name}")
            produced: list[Result] = module.run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        for result in produced:
            print(result.report(), flush=True)
        print(f"-- {name} took {time.perf_counter() - began:.1f} s\n", flush=True)
        results.extend(produced)

    if len(results) > 1:
        print("summary (ratio = subject / baseline, measured in the same run)")
        for result in results:
            print(
                f"  {result.name:<12} {result.subject.label} / {result.baseline.label}"
                f" = {result.ratio:.2f}x"
            )
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


def _first_line(source: str) -> str:
    docstring = ast.get_docstring(ast.parse(source)) or ""
    return docstring.partition("\n")[0]


if __name__ == "__main__":
    sys.exit(main())
