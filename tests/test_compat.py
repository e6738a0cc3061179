"""SDK 1.0 keeps its promise to plugins built against 0.1 (docs/plugins/compatibility.md).

``tests/compat/hello_0_1`` is examples/hello exactly as built against SDK 0.1.0, with its own
tests. They run in a pytest of their own: the frozen copy declares the same table as the
installed examples/hello, which cannot both live in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO


def test_the_hello_example_built_against_sdk_0_1_loads_and_passes():
    env = {**os.environ, "PYTEST_ADDOPTS": ""}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "--rootdir",
            str(REPO),
            "-o",
            "addopts=-p no:cacheprovider --import-mode=importlib",
            str(REPO / "tests" / "compat" / "hello_0_1"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
    assert "SdkDeprecationWarning" in result.stdout  # undeclared events warn, naming 2.0
