"""Meta-tests: every hook spec has a section in the hook reference and a test file of its own.

The reference (``docs/plugins/hooks.md``) cannot drift from ``shequyun_sdk.hookspecs``: a hook
without a ``### name(arg, ...)`` heading, a heading whose arguments differ from the spec's
signature, or a heading for a hook that does not exist fails here. So does a hook without
``tests/hooks/test_<hook>.py``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from shequyun_sdk import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOK_REFERENCE = ROOT / "docs" / "plugins" / "hooks.md"
HOOK_TESTS = ROOT / "tests" / "hooks"

HEADING = re.compile(r"^### (\w+)\(([^)]*)\)[ \t]*$", re.MULTILINE)


def hook_specs():
    """``{name: function}`` for every function marked as a hook spec."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, marker)
    }


def spec_arguments(name):
    return list(inspect.signature(hook_specs()[name]).parameters)


def reference_sections():
    """``[(hook, [args], body)]`` for every ``### hook(args)`` heading, in document order."""
    text = HOOK_REFERENCE.read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    sections = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = re.split(r"^#{1,3} ", text[heading.end() : end], flags=re.MULTILINE)[0]
        arguments = [a.strip() for a in heading[2].split(",") if a.strip()]
        sections.append((heading[1], arguments, body))
    return sections


HOOKS = sorted(hook_specs())


def test_the_hook_specs_are_found():
    assert "register_routes" in HOOKS
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook):
    documented = {name: arguments for name, arguments, _ in reference_sections()}
    assert hook in documented, f"{HOOK_REFERENCE.name} has no '### {hook}(...)' section"
    assert documented[hook] == spec_arguments(hook), (
        f"{HOOK_REFERENCE.name} documents {hook}({', '.join(documented[hook])}), "
        f"but the spec is {hook}({', '.join(spec_arguments(hook))})"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_each_argument_has_its_line(hook):
    [body] = [body for name, _, body in reference_sections() if name == hook] or [""]
    for argument in spec_arguments(hook):
        assert re.search(rf"^- `{argument}`", body, re.MULTILINE), (
            f"the {hook} section has no '- `{argument}` ...' line"
        )


def test_only_existing_hooks_are_documented_and_each_once():
    documented = [name for name, _, _ in reference_sections()]
    unknown = sorted(set(documented) - set(HOOKS))
    assert not unknown, f"{HOOK_REFERENCE.name} documents hooks that do not exist: {unknown}"
    repeated = sorted({name for name in documented if documented.count(name) > 1})
    assert not repeated, f"{HOOK_REFERENCE.name} documents these hooks twice: {repeated}"


def collected_tests(path):
    """Names of the test functions pytest would collect from ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found += [
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return [name for name in found if name.rpartition(".")[2].startswith("test_")]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_tests(hook):
    path = HOOK_TESTS / f"test_{hook}.py"
    assert path.is_file(), f"{hook} has no tests: create tests/hooks/{path.name}"
    assert collected_tests(path), f"tests/hooks/{path.name} holds no test function"
