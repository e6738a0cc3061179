"""The plugin as a whole: built on the SDK alone, its tables match its migration, demo data."""

from __future__ import annotations

import ast
from pathlib import Path

import shequyun_interaction

SOURCE = Path(shequyun_interaction.__file__).parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_plugin_imports_the_sdk_never_the_kernel():
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        kernel = {n for n in imported(path) if n == "shequyun" or n.startswith("shequyun.")}
        assert kernel == set(), f"{path.name} imports {kernel}"
    templates = list((SOURCE / "templates").rglob("*.html"))
    assert templates and not any("cdn" in t.read_text(encoding="utf-8").lower() for t in templates)


def test_it_loads_through_its_entry_point(shequyun_kernel):
    record = shequyun_kernel.host.records["interaction"]
    assert record.active, record.reason
    assert record.origin.startswith("entry point shequyun_interaction")
    assert record.context.settings["auto_hide_reports"] == 3


def test_the_models_match_the_migration(shequyun_kernel):
    from shequyun.models import model_drift  # the kernel's own check, as `shequyun db check`

    assert model_drift(shequyun_kernel.engine, shequyun_kernel.tables) == []


def test_demo_data_is_idempotent(shequyun_kernel, shequyun_units):
    from shequyun_interaction.demo import load
    from shequyun_interaction.models import Announcement
    from sqlmodel import Session, select

    # The test slice holds 天平路街道 with two committees.
    first = load(shequyun_kernel.platform)
    assert "公告 3 条" in first
    assert "未重复创建" in load(shequyun_kernel.platform)
    with Session(shequyun_kernel.engine) as session:
        assert len(session.exec(select(Announcement)).all()) == 3
