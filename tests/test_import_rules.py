"""The import rules of docs/architecture.md that keep the layers apart.

- No kernel module uses another package's private names (``_something``), and no page or API
  module uses another module's: what a door needs from elsewhere is public there.
- Service modules import no Starlette: a rule that needs the HTTP request is in the wrong place.
- A feature slice needs no kernel object at import time: it imports :mod:`shequyun.kernel` only
  inside a function or for type checkers, so ``kernel.py → defaults/ → slice`` has no circle.
- Plugins and examples import only the SDK: :mod:`tests.test_sdk_boundary` checks it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

KERNEL = REPO / "kernel" / "src" / "shequyun"
SOURCES = sorted(p for p in KERNEL.rglob("*.py") if "migrations" not in p.parts)

#: The service modules: each write and each read of personal data is a function here.
SERVICES = [
    "apps/service.py",
    "apps/webhooks.py",
    "attachments/service.py",
    "calendar/service.py",
    "collection/campaigns.py",
    "collection/follow_up.py",
    "collection/forms.py",
    "collection/results.py",
    "collection/service.py",
    "collection/tasks.py",
    "enablement.py",
    "identity/access.py",
    "identity/accounts.py",
    "identity/audit.py",
    "identity/audit_log.py",
    "identity/audit_reading.py",
    "identity/directory.py",
    "identity/grant_rules.py",
    "identity/org_import.py",
    "identity/orgunit_steps.py",
    "identity/orgunits.py",
    "identity/own_account.py",
    "identity/scope.py",
    "identity/user_admin.py",
    "identity/user_import.py",
    "identity/user_lists.py",
    "indicators/exporting.py",
    "indicators/service.py",
    "notices/service.py",
    "quality/duplicates.py",
    "quality/rounds.py",
    "quality/service.py",
    "residents/batch.py",
    "residents/changes.py",
    "residents/exporting.py",
    "residents/households.py",
    "residents/importing.py",
    "residents/reading.py",
    "residents/service.py",
    "residents/write_steps.py",
    "scheduler/service.py",
]


def module_name(path: Path) -> str:
    parts = path.relative_to(KERNEL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names."""
    if node.level == 0:
        return node.module or ""
    base = package_of(module_name(path), path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def is_door(path: Path) -> bool:
    return path.name.startswith(("api", "pages")) or path.parent.name == "portal"


def private_uses(path: Path, source: str | None = None) -> list[str]:
    """``module:name`` of each private name ``path`` takes from a module other than itself:
    imported by name, or read as an attribute of an imported module."""
    own = module_name(path)
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local alias -> absolute module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve(path, node)
            for alias in node.names:
                if is_private(alias.name):
                    found.append(f"{source}:{alias.name}")
                elif source.startswith("shequyun"):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("shequyun") and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{modules[node.value.id]}:{node.attr}")
    return [use for use in found if use.split(":")[0] != own]


def starlette_imports(path: Path, source: str | None = None) -> list[str]:
    """Starlette modules ``path`` imports at run time (``TYPE_CHECKING`` blocks aside)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for child in node.body for n in ast.walk(child))
    names = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.split(".")[0] == "starlette"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "starlette":
            names.append(node.module or "")
    return names


def imports_at_load(path: Path) -> set[str]:
    """The modules ``path`` imports when it is loaded: top-level statements, not ``TYPE_CHECKING``."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            found.add(resolve(path, node))
            found.update(f"{resolve(path, node)}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


SLICES = sorted(p for p in SOURCES if p.parent != KERNEL and p.parent.name not in {"portal"})


@pytest.mark.parametrize("path", SLICES, ids=lambda p: str(p.relative_to(KERNEL)))
def test_slices_need_no_kernel_at_import_time(path):
    assert "shequyun.kernel" not in imports_at_load(path)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(KERNEL)))
def test_no_module_uses_another_packages_private_names(path):
    package = package_of(module_name(path), path)
    crossing = [u for u in private_uses(path) if not u.startswith(f"{package}.")]
    assert crossing == [], f"make these public in their package, or move them: {crossing}"


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if is_door(p)], ids=lambda p: str(p.relative_to(KERNEL))
)
def test_pages_and_api_handlers_use_no_private_names_of_other_modules(path):
    assert private_uses(path) == []


@pytest.mark.parametrize("name", SERVICES)
def test_services_import_no_starlette(name):
    assert starlette_imports(KERNEL / name) == []


def test_every_slice_service_module_is_listed():
    """A new ``service.py`` is a service module: the Starlette rule covers it too."""
    found = {str(p.relative_to(KERNEL)) for p in SOURCES if p.name == "service.py"}
    assert found <= set(SERVICES), sorted(found - set(SERVICES))


def test_the_checks_see_what_they_look_for():
    """The rules above find a private import, a private attribute and a Starlette import,
    and let a module use its own private names."""
    probe = KERNEL / "residents" / "pages_probe.py"
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..identity.api_support import _secret\n"
        "from ..collection import results\n"
        "from starlette.requests import Request\n"
        "if TYPE_CHECKING:\n"
        "    from starlette.responses import Response\n"
        "results._base(None)\n"
        "_own = 1\n"
    )
    assert private_uses(probe, source) == [
        "shequyun.identity.api_support:_secret",
        "shequyun.collection.results:_base",
    ]
    assert starlette_imports(probe, source) == ["starlette.requests"]
