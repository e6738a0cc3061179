"""Docs cannot drift: tutorial code is real code, and links between docs resolve."""

from __future__ import annotations

import re

import pytest

from .conftest import REPO

DOCS = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md"]
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def file_blocks():
    for doc in DOCS:
        for _lang, body in FENCE.findall(doc.read_text(encoding="utf-8")):
            first, _, rest = body.partition("\n")
            if first.startswith("# file: "):
                yield doc, first[len("# file: ") :].strip(), rest


BLOCKS = list(file_blocks())


def test_the_tutorial_shows_real_files():
    assert len([b for b in BLOCKS if b[0].name == "tutorial.md"]) >= 6


@pytest.mark.parametrize(
    ("doc", "path", "code"), BLOCKS, ids=[f"{d.name}:{p}" for d, p, _ in BLOCKS]
)
def test_code_blocks_marked_with_a_file_are_verbatim_in_that_file(doc, path, code):
    source = (REPO / path).read_text(encoding="utf-8")
    assert code.strip() in source, f"{doc.name} shows code that is not in {path}"


LINK = re.compile(r"\]\(([^)#]+)(#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(REPO)))
def test_relative_links_resolve(doc):
    for target, _anchor in LINK.findall(doc.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_every_platform_call_has_a_row_in_the_platform_reference():
    """A plugin author reads docs/plugins/platform.md's table for what they may ask: a public
    ``Platform`` method missing there exists only for those who read the SDK's source."""
    import inspect

    from shequyun_sdk import Platform

    text = (REPO / "docs" / "plugins" / "platform.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in text.splitlines() if line.startswith("| "))
    calls = [
        name
        for name, _ in inspect.getmembers(Platform, inspect.isfunction)
        if not name.startswith("_")
    ]
    assert "resident_views" in calls
    assert [name for name in calls if f"`{name}(" not in rows] == []
