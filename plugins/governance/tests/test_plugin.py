"""The plugin as a whole: built on the SDK alone, loaded by its entry point, its tables match
its migration, its demo data is idempotent, its workbench cards."""

from __future__ import annotations

import ast
from pathlib import Path

import shequyun_governance

SOURCE = Path(shequyun_governance.__file__).parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_plugin_imports_the_sdk_never_the_kernel_nor_another_plugin():
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 15
    for path in files:
        names = imported(path)
        kernel = {n for n in names if n == "shequyun" or n.startswith("shequyun.")}
        plugins = {n for n in names if n.startswith("shequyun_") and n != "shequyun_sdk"}
        plugins = {n for n in plugins if not n.startswith(("shequyun_sdk.", "shequyun_governance"))}
        assert kernel == set() and plugins == set(), f"{path.name} imports {kernel | plugins}"
    templates = list((SOURCE / "templates").rglob("*.html"))
    assert templates and not any("cdn" in t.read_text(encoding="utf-8").lower() for t in templates)


def test_it_loads_through_its_entry_point(tmp_path, shequyun_test_databases):
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url="sqlite://", data_dir=tmp_path)
    kernel = Kernel(settings, discover=True)
    try:
        record = kernel.host.records["governance"]
        assert record.active, record.reason
        assert record.origin.startswith("entry point shequyun_governance")
        assert record.context.settings["accept_days"] == 1
    finally:
        kernel.engine.dispose()


def test_the_models_match_the_migration(shequyun_kernel):
    from shequyun.models import model_drift  # the kernel's own check, as `shequyun db check`

    assert model_drift(shequyun_kernel.engine, shequyun_kernel.tables) == []


def test_demo_data_is_idempotent(shequyun_kernel, shequyun_units):
    from shequyun_governance.demo import load
    from shequyun_governance.models import Case, LogEntry
    from sqlmodel import Session, func, select

    first = load(shequyun_kernel.platform)
    assert first is not None and "案件" in first
    with Session(shequyun_kernel.engine) as session:
        cases = session.exec(select(func.count()).select_from(Case)).one()
    assert cases > 0
    with Session(shequyun_kernel.engine) as session:
        closed = session.exec(select(Case).where(Case.status == "closed")).all()
        routine = session.exec(
            select(func.count()).select_from(LogEntry).where(LogEntry.category_name == "日常走访")
        ).one()
    # "Most closed on time": the dashboards of a demo district should not look like a crisis.
    on_time = [c for c in closed if c.closed_on is not None and c.closed_on <= c.due_on]
    assert len(closed) > 10 and len(on_time) / len(closed) > 0.75
    assert routine > 0
    assert "未重复创建" in (load(shequyun_kernel.platform) or "")
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == cases


def test_workbench_cards_for_a_cadre(xuhui):
    case = xuhui.open(xuhui.street, unit_code="310104003001")
    assert case
    workbench = xuhui.cadre.portal().get("/").text
    assert "末端处置" in workbench and "待签收 1 件" in workbench and "民情日志" in workbench
