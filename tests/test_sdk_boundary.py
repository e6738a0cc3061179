"""The SDK depends on no kernel code, and plugins import only the SDK."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from .conftest import REPO


def test_importing_the_sdk_and_its_pytest_plugin_does_not_import_the_kernel():
    code = (
        "import sys, shequyun_sdk, shequyun_sdk.hookspecs, shequyun_sdk.testing.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m == 'shequyun' or m.startswith('shequyun.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


PLUGIN_SOURCES = sorted(
    p
    for folder in ("plugins", "examples")
    for p in (REPO / folder).rglob("*.py")
    # build/ holds copies a wheel build leaves behind (pip wheel ./plugins/x): not sources.
    if not {"tests", "build"} & set(p.relative_to(REPO).parts) and ".egg-info" not in str(p)
)


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_import_the_sdk_never_the_kernel(path):
    kernel_imports = {
        name
        for name in imported_modules(path)
        if name == "shequyun" or name.startswith("shequyun.")
    }
    assert kernel_imports == set(), f"{path} reaches into the kernel"


def _own_package(path) -> str:
    """``shequyun_governance`` for a file of ``plugins/governance/src/shequyun_governance/``."""
    parts = path.relative_to(REPO).parts
    return parts[parts.index("src") + 1] if "src" in parts else parts[1]


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_never_import_one_another(path):
    """Plugins meet only through SDK contracts (events, hooks): the 居社互动 plugin escalates a
    request to 社区治理 by an event, and each works with the other uninstalled."""
    own = _own_package(path)
    others = {
        name.split(".")[0]
        for name in imported_modules(path)
        if name.startswith("shequyun_") and not name.startswith(("shequyun_sdk", own))
    }
    assert others == set(), f"{path} imports another plugin: {others}"


def test_the_sdk_does_not_depend_on_the_kernel_distribution():
    from importlib.metadata import requires

    hard = [r for r in requires("shequyun-sdk") or [] if "extra ==" not in r]
    assert not any(r.split(">")[0].split("<")[0].strip() == "shequyun" for r in hard)
