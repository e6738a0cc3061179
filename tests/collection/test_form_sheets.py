"""Forms as XLSX workbooks (XLSForm-like): read with every bad row reported, written back."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from shequyun.collection.form_sheets import read_workbook
from shequyun.collection.form_sheets_write import write_workbook
from shequyun.collection.questions import to_form

from ..portal.test_collection_pages import ELEVATOR
from .test_questions import twelve_questions

HEADER = ["type", "name", "label", "hint", "required", "relevant", "min", "max"]


def workbook(survey: list[list], choices: list[list] = (), *, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(header)
    for row in survey:
        sheet.append(row)
    listed = book.create_sheet("choices")
    listed.append(["list_name", "name", "label"])
    for row in choices:
        listed.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


VISIT = [
    ["integer", "age", "年龄", "周岁", "yes", None, 60, 120],
    ["select_one living", "living", "居住情况", None, "yes"],
    ["phone", "contact", "紧急联系人电话", None, None, "${living} = '独居'"],
    ["begin_repeat", "members", "同住家庭成员", None, None, None, None, 10],
    ["text", "who", "姓名", None, "yes", None, None, 20],
    ["end_repeat"],
    ["image", "door", "门牌照片"],
]
LIVING = [["living", "alone", "独居"], ["living", "couple", "与配偶同住"]]


def test_a_sheet_becomes_questions_with_a_condition_and_a_table():
    form = read_workbook(workbook(VISIT, LIVING))
    assert form.problems == []
    schema, ui = to_form(form.questions)
    assert schema["properties"]["living"]["enum"] == ["独居", "与配偶同住"]
    assert schema["properties"]["age"] == {"type": "integer", "minimum": 60, "maximum": 120}
    assert schema["properties"]["members"]["items"]["required"] == ["who"]
    assert ui["fields"]["contact"]["visible_if"] == {"field": "living", "equals": "独居"}
    assert ui["fields"]["door"]["widget"] == "photo" and ui["fields"]["age"]["help"] == "周岁"


def test_chinese_headers_work_too():
    header = ["题型", "列名", "题目", "说明", "必填"]
    form = read_workbook(workbook([["integer", "households", "户数", None, "是"]], header=header))
    assert form.problems == [] and form.questions[0].required


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_read():
    bad = [
        ["integer", "age", "年龄", None, "yes", None, 120, 60],  # row 2: bounds the wrong way
        ["select_one missing", "living", "居住情况"],  # row 3: no such list
        ["text", "name", "姓名", None, "maybe"],  # row 4: required neither yes nor no
        ["phone", "contact", "电话", None, None, "${nowhere} = '独居'"],  # row 5
        ["photo", "2bad", "照片"],  # row 6: a name that cannot be a column
    ]
    form = read_workbook(workbook(bad, LIVING))
    assert form.questions == []
    found = {(p.row, p.column) for p in form.problems}
    assert found == {(2, "max"), (3, "type"), (4, "required"), (5, "relevant"), (6, "name")}
    (missing,) = [p for p in form.problems if p.row == 3]
    assert missing.message == "choices 工作表中没有名为 missing 的选项表"


def test_unbalanced_tables_and_unknown_types_are_reported():
    form = read_workbook(
        workbook(
            [["begin_repeat", "rows", "成员"], ["text", "who", "姓名"], ["slider", "x", "滑块"]]
        )
    )
    messages = {(p.row, p.message) for p in form.problems}
    assert (4, "不认识的题型 slider（可用题型见使用说明）") in messages
    assert (2, "begin_repeat 缺少对应的 end_repeat 行") in messages


def test_not_a_workbook_is_one_problem():
    (problem,) = read_workbook(b"name,label\n").problems
    assert "xlsx" in problem.message


def test_the_download_reads_back_to_the_same_form():
    schema, ui = to_form(twelve_questions())
    data = write_workbook("独居老人走访", "每季度一次", schema, ui)
    form = read_workbook(data)
    assert form.problems == []
    assert (form.title, form.description) == ("独居老人走访", "每季度一次")
    assert to_form(form.questions) == (schema, ui)
    sheet = load_workbook(io.BytesIO(data))["survey"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:6] == ["type", "name", "label", "hint", "required", "relevant"]
    assert rows[12][:3] == ["begin_repeat", "members", "同住家庭成员"]
    assert rows[4][5] == "${living} = '独居'"


def test_a_hand_written_form_downloads_and_reads_back_to_the_same_schema():
    data = write_workbook("加装电梯意愿摸底", "", ELEVATOR["schema"], ELEVATOR["ui"])
    form = read_workbook(data)
    assert form.problems == []
    assert to_form(form.questions)[0] == ELEVATOR["schema"]


def test_a_label_that_looks_like_a_formula_stays_text():
    schema, ui = to_form(twelve_questions())
    ui["fields"]["name"]["label"] = "=姓名"
    form = read_workbook(write_workbook("t", "", schema, ui))
    assert form.questions[0].label == "=姓名"


def test_a_group_and_a_pattern_survive_the_workbook():
    form = read_workbook(
        workbook(
            [
                ["yes_no", "has_car", "是否有车"],
                ["begin_group", "car", "车辆信息", None, None, "${has_car} = true()"],
                ["text", "plate", "车牌号", None, "yes", None, None, 10],
                ["end_group"],
            ]
        )
    )
    assert form.problems == []
    schema, ui = to_form(form.questions)
    assert ui["fields"]["car"]["visible_if"] == {"field": "has_car", "equals": True}
    back = read_workbook(write_workbook("车辆", "", schema, ui))
    assert to_form(back.questions) == (schema, ui)


def test_a_pattern_is_written_as_an_xlsform_regex_constraint_and_read_back():
    from shequyun.collection.questions import Question

    schema, ui = to_form([Question("text", "plate", "车牌号", maximum=10, pattern="^沪[A-Z]")])
    data = write_workbook("车辆", "", schema, ui)
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(data))["survey"].iter_rows()]
    assert rows[1][8] == "regex(., '^沪[A-Z]')"
    assert to_form(read_workbook(data).questions) == (schema, ui)
