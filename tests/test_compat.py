"""The SDK keeps its promise to plugins built against earlier releases
(docs/plugins/compatibility.md).

``tests/compat/hello_0_1`` is examples/hello exactly as built against SDK 0.1.0, and
``tests/compat/garbage_1_0`` examples/garbage exactly as built against 1.0.0, each with its own
tests. They run in a pytest of their own: a frozen copy declares the same table as the installed
example, which cannot both live in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO


def run_frozen(folder):
    """Run the tests of ``tests/compat/<folder>`` in a pytest of their own."""
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
            str(REPO / "tests" / "compat" / folder),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def test_the_hello_example_built_against_sdk_0_1_loads_and_passes():
    out = run_frozen("hello_0_1")
    assert "4 passed" in out
    assert "SdkDeprecationWarning" in out  # undeclared events warn, naming 2.0


def test_the_garbage_example_built_against_sdk_1_0_loads_and_passes():
    out = run_frozen("garbage_1_0")
    assert "7 passed" in out  # warnings are errors here: nothing it uses is deprecated in 1.x
