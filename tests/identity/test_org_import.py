"""``shequyun org import``: a dry run lists every bad row; a clean file loads all or nothing."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from shequyun_sdk import ValidationFailed
from sqlmodel import Session, func, select

from shequyun.cli import main
from shequyun.identity.models import AuditEntry, OrgUnit, OrgUnitChange
from shequyun.identity.org_import import MAX_IMPORT_BYTES, import_units

HEADER = "code,name,level,parent_code\n"
CLEAN = (
    HEADER + "310000000000,上海市,city,\n"
    "310104000000,徐汇区,district,310000000000\n"
    "310104003000,天平路街道,street,310104000000\n"
    "310104003001,宛平南路居委会,committee,310104003000\n"
    "310104003002,建国西路居委会,committee,310104003000\n"
)
BAD = (
    "编码,名称,层级,上级编码\n"
    "310000000000,上海市,市,\n"  # row 2: fine
    "310104000000,徐汇区,区,310000000000\n"  # row 3: fine
    "310104003000,天平路街道,居委会,310104000000\n"  # row 4: wrong level
    "310104003001,宛平南路居委会,居委会,310104009000\n"  # row 5: unknown parent
    "310104000000,徐汇区重复,区,310000000000\n"  # row 6: duplicate code in the file
    "3101040030,短编码居委会,居委会,310104003000\n"  # row 7: bad code
    "310104003003,,村委会,310104003000\n"  # row 8: no name
    "310104003004,某某居委会,小区,310104003000\n"  # row 9: unknown level
    "310104004001,后排居委会,居委会,310104004000\n"  # row 10: parent comes later
    "310104004000,后排街道,街道,310104000000\n"  # row 11: fine
)


def units(kernel) -> dict[str, OrgUnit]:
    with Session(kernel.engine) as session:
        return {u.code: u for u in session.exec(select(OrgUnit)).all()}


def run_import(kernel, data: bytes, filename: str = "roster.csv", *, apply: bool):
    with Session(kernel.engine) as session:
        report = import_units(session, data, filename, apply=apply, by=None)
        session.commit()
    return report


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(shequyun_kernel):
    report = run_import(shequyun_kernel, BAD.encode(), apply=True)
    assert not report.valid and not report.applied
    problems = [(e.row, e.field) for e in report.errors]
    assert problems == [
        (4, "层级"),
        (5, "上级编码"),
        (6, "编码"),
        (7, "编码"),
        (8, "名称"),
        (9, "层级"),
        (10, "上级编码"),
    ]
    messages = {e.row: e.message for e in report.errors}
    assert messages[4] == "上级 310104000000 是区级，本行层级应为街镇"
    assert messages[5] == "上级编码 310104009000 不存在（文件中和系统中都没有）"
    assert messages[6] == "编码 310104000000 与第 3 行重复"
    assert messages[7] == "编码“3101040030”应为 12 位数字"
    assert messages[8] == "名称不能为空"
    assert messages[9].startswith("层级“小区”无法识别")
    assert messages[10] == "上级 310104004000 在第 11 行，应排在本行之前"
    assert units(shequyun_kernel) == {}
    lines = report.lines()
    assert "发现 7 处问题，未写入任何数据。请修正后重试：" in lines
    assert "  第 4 行 · 层级：上级 310104000000 是区级，本行层级应为街镇" in lines


def test_a_clean_file_is_only_checked_without_apply(shequyun_kernel):
    report = run_import(shequyun_kernel, CLEAN.encode(), apply=False)
    assert report.valid and not report.applied
    assert report.new_by_level() == {"city": 1, "district": 1, "street": 1, "committee": 2}
    assert units(shequyun_kernel) == {}
    assert report.lines()[-1] == "试运行：文件没有问题，未写入任何数据。确认后加 --apply 导入。"


def test_a_clean_file_imports_with_paths_history_and_one_audit_entry(shequyun_kernel):
    report = run_import(shequyun_kernel, CLEAN.encode(), apply=True)
    assert report.applied and len(report.new) == 5
    found = units(shequyun_kernel)
    city, street = found["310000000000"], found["310104003000"]
    assert city.path == f"/{city.id}/"
    assert found["310104003001"].path == f"{street.path}{found['310104003001'].id}/"
    assert found["310104003001"].parent_id == street.id
    with Session(shequyun_kernel.engine) as session:
        changes = session.exec(select(func.count()).select_from(OrgUnitChange)).one()
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "org.units.imported")
        ).one()
    assert changes == 5
    assert entry.detail["created"] == 5 and entry.detail["via"] == "cli"


def test_existing_identical_units_are_skipped_and_different_ones_refused(
    shequyun_kernel, shequyun_units
):
    """The test tree already holds 上海市, 徐汇区, 天平路街道 and both committees."""
    again = run_import(shequyun_kernel, CLEAN.encode(), apply=True)
    assert again.valid and len(again.unchanged) == 5 and again.new == []
    changed = CLEAN.replace("宛平南路居委会", "宛平南路第一居委会") + (
        "310104003003,天平新居委会,committee,310104003000\n"
    )
    report = run_import(shequyun_kernel, changed.encode(), apply=True)
    assert [(e.row, e.field) for e in report.errors] == [(5, "code")]
    assert "已存在（宛平南路居委会" in report.errors[0].message
    assert "310104003003" not in units(shequyun_kernel)


def test_new_units_may_hang_below_existing_ones(shequyun_kernel, shequyun_units):
    data = HEADER + "310104003003,天平新居委会,居委会,310104003000\n"
    report = run_import(shequyun_kernel, data.encode(), apply=True)
    assert report.applied
    found = units(shequyun_kernel)
    assert found["310104003003"].path.startswith(found["310104003000"].path)


def test_a_closed_parent_is_refused(shequyun_kernel, shequyun_units):
    from datetime import date

    from shequyun.identity import orgunits

    with Session(shequyun_kernel.engine) as session:
        for code in ("310104003001", "310104003002", "310104003000"):
            orgunits.close(session, code, closed_on=date(2024, 1, 1), by=None)
        session.commit()
    data = HEADER + "310104003003,天平新居委会,committee,310104003000\n"
    report = run_import(shequyun_kernel, data.encode(), apply=True)
    assert [(e.row, e.field) for e in report.errors] == [(2, "parent_code")]
    assert "已撤销" in report.errors[0].message


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_chinese_headers_and_level_names_in_any_usual_encoding(shequyun_kernel, encoding):
    data = (
        "编码,名称,层级,上级编码,备注\n"
        "310000000000,上海市,市,,\n"
        "310151000000,崇明区,区,310000000000,\n"
        "310151101000,城桥镇,镇,310151000000,\n"
        "310151201000,新村乡,乡,310151000000,\n"
        "310151101001,城桥居委会,居委会,310151101000,\n"
        "310151101200,鳌山村村委会,村委会,310151101000,\n"
    )
    report = run_import(shequyun_kernel, data.encode(encoding), apply=True)
    assert report.applied, report.lines()
    assert report.ignored_columns == ["备注"]
    found = units(shequyun_kernel)
    assert found["310151201000"].name == "新村乡" and found["310151201000"].level == "street"
    assert found["310151101200"].name == "鳌山村村委会"


def test_an_xlsx_roster_with_numeric_codes_imports(shequyun_kernel):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编码", "名称", "层级", "上级编码"])
    sheet.append([310000000000, "上海市", "市", None])
    sheet.append([310104000000, "徐汇区", "区", 310000000000])
    sheet.append([])
    sheet.append([310104003000, "天平路街道", "街道", "310104000000"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(shequyun_kernel, buffer.getvalue(), "名册.xlsx", apply=True)
    assert report.applied, report.lines()
    assert set(units(shequyun_kernel)) == {"310000000000", "310104000000", "310104003000"}


def test_a_code_mangled_into_scientific_notation_is_explained(shequyun_kernel):
    data = HEADER + "3.10104E+11,徐汇区,district,310000000000\n"
    report = run_import(shequyun_kernel, data.encode(), apply=False)
    assert "科学计数法" in report.errors[0].message


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "文件是空的"),
        (
            "code,name,level\n310000000000,上海市,city\n".encode(),
            "a.csv",
            "缺少列：上级编码（parent_code）",
        ),
        (b"code,name,level,parent_code,\xe7\xbc\x96\xe7\xa0\x81\n", "a.csv", "重复"),
        (b"\xd0\xcf\x11\xe0rest", "old.xls", "不支持旧版 .xls"),
        (b"PK\x03\x04broken", "a.xlsx", "无法读取 XLSX"),
        (b"\xff\xfe\x00c\x00o", "utf16.csv", "无法识别文件编码"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(shequyun_kernel, data, filename, message):
    with Session(shequyun_kernel.engine) as session, pytest.raises(ValidationFailed) as caught:
        import_units(session, data, filename, apply=True, by=None)
    assert caught.value.field == "file"
    assert message in caught.value.message


def test_the_file_size_is_bounded(shequyun_kernel):
    with Session(shequyun_kernel.engine) as session, pytest.raises(ValidationFailed, match="MB"):
        import_units(session, b"x" * (MAX_IMPORT_BYTES + 1), "big.csv", apply=False, by=None)


def cli_env(kernel, tmp_path) -> dict[str, str]:
    return {
        "SHEQUYUN_DATABASE_URL": kernel.engine.url.render_as_string(hide_password=False),
        "SHEQUYUN_DATA_DIR": str(tmp_path / "var"),
        "SHEQUYUN_PLUGINS_ALLOWED": "core",  # exactly the test kernel's plugins and migrations
    }


def test_the_command_is_a_dry_run_until_apply(shequyun_kernel, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(CLEAN.encode("gbk"))
    runner = CliRunner()
    env = cli_env(shequyun_kernel, tmp_path)
    dry = runner.invoke(main, ["org", "import", str(roster)], env=env)
    assert dry.exit_code == 0, dry.output
    assert "将新建 5 个单位（市 1、区 1、街镇 1、居村委 2）" in dry.output
    assert "试运行" in dry.output
    assert units(shequyun_kernel) == {}
    applied = runner.invoke(main, ["org", "import", str(roster), "--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "已全部导入。" in applied.output
    assert len(units(shequyun_kernel)) == 5
    again = runner.invoke(main, ["org", "import", str(roster), "--apply"], env=env)
    assert "已存在且一致、跳过 5 个" in again.output
    assert "没有需要新建的单位，未作任何改动。" in again.output


def test_the_command_lists_every_problem_and_exits_1(shequyun_kernel, tmp_path):
    roster = tmp_path / "bad.csv"
    roster.write_text(BAD, encoding="utf-8-sig")
    result = CliRunner().invoke(
        main, ["org", "import", str(roster), "--apply"], env=cli_env(shequyun_kernel, tmp_path)
    )
    assert result.exit_code == 1
    assert len([line for line in result.output.splitlines() if line.startswith("  第 ")]) == 7
    assert "第 10 行 · 上级编码：上级 310104004000 在第 11 行，应排在本行之前" in result.output
    assert units(shequyun_kernel) == {}
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = CliRunner().invoke(
        main, ["org", "import", str(empty)], env=cli_env(shequyun_kernel, tmp_path)
    )
    assert refused.exit_code == 1 and "文件是空的" in refused.output
