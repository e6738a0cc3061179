"""Questions as a clerk writes them become the JSON Schema and UI layer the engine checks."""

from __future__ import annotations

import pytest

from shequyun.collection.questions import (
    NotBuildable,
    Question,
    check,
    from_form,
    owner_of,
    to_form,
)
from shequyun.collection.schema_check import check_schema
from shequyun.collection.ui_check import check_ui
from shequyun.collection.validator import compile_validator

from ..portal.test_collection_pages import ELEVATOR


def twelve_questions() -> list[Question]:
    """The 12-question visit form of the browser test: a condition and a repeating table."""
    return [
        Question("text", "name", "老人姓名", required=True, maximum=20),
        Question("integer", "age", "年龄", required=True, minimum=60, maximum=120),
        Question(
            "single_choice",
            "living",
            "居住情况",
            required=True,
            choices=["独居", "与配偶同住", "与子女同住"],
        ),
        Question("phone", "contact", "紧急联系人电话", show_field="living", show_values=["独居"]),
        Question(
            "multiple_choice", "needs", "服务需求", choices=["助餐", "助浴", "助医"], maximum=2
        ),
        Question("yes_no", "visited", "是否已上门走访", required=True),
        Question("date", "visit_date", "走访日期", show_field="visited", show_values=[True]),
        Question("number", "income", "月收入（元）", minimum=0),
        Question("long_text", "remark", "备注", help="写明特殊情况", maximum=500),
        Question("photo", "door", "门牌照片"),
        Question("address", "home", "住址"),
        Question(
            "table",
            "members",
            "同住家庭成员",
            maximum=10,
            children=[
                Question("text", "who", "姓名", required=True, maximum=20),
                Question("single_choice", "relation", "关系", choices=["配偶", "子女", "其他"]),
                Question(
                    "text",
                    "other",
                    "说明关系",
                    maximum=20,
                    show_field="relation",
                    show_values=["其他"],
                ),
            ],
        ),
    ]


def test_twelve_questions_make_a_form_the_engine_accepts_and_read_back_the_same():
    questions = twelve_questions()
    assert check(questions) == []
    schema, ui = to_form(questions)
    assert check_schema(schema) == [] and check_ui(ui, schema) == []
    assert ui["fields"]["contact"]["visible_if"] == {"field": "living", "equals": "独居"}
    assert ui["fields"]["members.other"]["visible_if"] == {
        "field": "members.relation",
        "equals": "其他",
    }
    assert ui["fields"]["door"]["widget"] == "photo"
    assert from_form(schema, ui) == questions
    assert to_form(from_form(schema, ui)) == (schema, ui)


def test_the_form_validates_answers_as_the_questions_say():
    schema, ui = to_form(twelve_questions())
    good = {
        "name": "王阿婆",
        "age": 86,
        "living": "独居",
        "contact": "13800138000",
        "visited": True,
        "members": [{"who": "王小明", "relation": "其他", "other": "侄子"}],
    }
    validator = compile_validator(schema, ui)
    assert validator.errors(good) == []
    bad = {**good, "age": 40, "needs": ["助餐", "助浴", "助医"]}
    errors = {e.field for e in validator.errors(bad)}
    assert errors == {"age", "needs"}


def test_a_hand_written_form_reads_back_into_questions():
    questions = from_form(ELEVATOR["schema"], ELEVATOR["ui"])
    assert [q.kind for q in questions] == [
        "integer",
        "yes_no",
        "single_choice",
        "multiple_choice",
        "table",
    ]
    assert [c.label for c in questions[4].children] == ["楼号", "层数"]
    schema, ui = to_form(questions)
    assert schema["properties"]["buildings"] == ELEVATOR["schema"]["properties"]["buildings"]
    assert check_ui(ui, schema) == []


def test_forms_the_questions_cannot_say_are_refused_with_the_reason():
    with pytest.raises(NotBuildable, match=r"\$ref"):
        from_form(
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/x"}},
                "$defs": {"x": {"type": "string"}},
            },
            {},
        )
    with pytest.raises(NotBuildable, match="选项不全是文字"):
        from_form({"type": "object", "properties": {"n": {"enum": [1, 2]}}}, {})


def test_each_mistake_names_the_question_in_chinese():
    questions = [
        Question("single_choice", "living", "居住情况", choices=[]),
        Question("integer", "age", "年龄", minimum=120, maximum=60),
        Question("text", "living", ""),
        Question("date", "when", "走访日期", show_field="age", show_values=["1"]),
        Question("table", "rows", "成员", children=[Question("table", "inner", "嵌套")]),
    ]
    found = [(p.key, p.part, p.text) for p in check(questions)]
    assert ("1", "choices", "第 1 题「居住情况」：请至少写一个选项（每行一个）") in found
    assert ("2", "bounds", "第 2 题「年龄」：最小值大于最大值，没有答案能通过") in found
    assert ("3", "label", "第 3 题：请填写题目") in found
    assert ("3", "name", "第 3 题：导出列名 living 与第 1 题重复") in found
    assert any(k == "4" and part == "condition" and "不是单选" in text for k, part, text in found)
    assert any(k == "5.1" and "不能再放表格" in text for k, _part, text in found)
    assert check([]) and check([])[0].message == "表单至少需要一道题"


def test_an_engine_problem_finds_its_question():
    questions = twelve_questions()
    assert owner_of("schema/properties/members/items/properties/relation/enum", questions) == "12.2"
    assert owner_of("ui/fields/members.other/visible_if", questions) == "12.3"
    assert owner_of("schema/properties/age/minimum", questions) == "2"
    assert owner_of("schema", questions) == ""


def test_a_group_keeps_its_questions_together_and_reads_back():
    questions = [
        Question("yes_no", "has_car", "是否有车"),
        Question(
            "group",
            "car",
            "车辆信息",
            show_field="has_car",
            show_values=[True],
            children=[
                Question("text", "plate", "车牌号", required=True, maximum=10, pattern="^沪"),
                Question("single_choice", "kind", "车型", choices=["轿车", "电动车"]),
            ],
        ),
    ]
    assert check(questions) == []
    schema, ui = to_form(questions)
    assert schema["properties"]["car"]["required"] == ["plate"]
    assert schema["properties"]["car"]["properties"]["plate"]["pattern"] == "^沪"
    assert check_schema(schema) == [] and check_ui(ui, schema) == []
    assert from_form(schema, ui) == questions
