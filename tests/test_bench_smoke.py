"""The benchmarks still run (figures are read by people, never asserted here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


@pytest.mark.slow
def test_every_benchmark_runs_in_quick_mode():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ratio" in result.stdout


@pytest.mark.slow
def test_the_load_test_runs_in_its_smoke_form():
    """bench/load_test.py --quick: a dozen simulated people for 20 s against two workers.

    Only that it runs and reports every kind of request: how fast is for people to read.
    """
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "load_test.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout
    for route in (
        "| GET /residents |",
        "| PATCH /residents/{id} |",
        "| PUT /tasks/{id}/draft |",
        "| POST /tasks/{id}/submit |",
        "| GET /campaigns/{id}/progress |",
        "| GET /residents/export",
        "| all |",
    ):
        assert route in table, table
    assert table.count("MiB at the start") == 2  # both workers' memory
    assert "reproduce " in table and "load_test.py --quick" in table
