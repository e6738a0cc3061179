"""check_schema and check_ui: every problem of an uploaded form, and nothing raises or hangs."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from shequyun.collection import fields
from shequyun.collection.schema_check import SUPPORTED, SchemaProblem, check_schema
from shequyun.collection.ui_check import check_ui

REPO = Path(__file__).resolve().parents[2]


def form(**properties: object) -> dict:
    return {"type": "object", "properties": properties or {"name": {"type": "string"}}}


def text(**extra: object) -> dict:
    return {"type": "string", **extra}


HOUSEHOLD_VISIT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:shequyun:form:household-visit",
    "title": "独居老人走访",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 20, "title": "姓名"},
        "id_number": {"type": "string", "format": "id-number"},
        "phone": {"type": ["string", "null"], "format": "phone"},
        "born": {"type": "string", "format": "date"},
        "visited_at": {"type": "string", "format": "date-time"},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "income": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1e9,
            "multipleOf": 0.01,
        },
        "living": {"type": "string", "enum": ["独居", "与配偶同住", "与子女同住"]},
        "needs": {
            "type": "array",
            "items": {"enum": ["助餐", "助浴", "助医", "助洁"]},
            "uniqueItems": True,
            "minItems": 0,
        },
        "visited": {"type": "boolean", "default": False},
        "remark": {"type": "string", "maxLength": 2000, "x-placeholder": "可不填"},
        "postcode": {"type": "string", "pattern": "^[0-9]{6}$", "examples": ["200120"]},
        "chinese_name": {"type": "string", "pattern": "^[\\u4e00-\\u9fa5]{2,10}$"},
        "address": {"$ref": "#/$defs/address"},
        "photo": {"type": "string", "format": "attachment"},
        "email": {"type": "string", "format": "email"},
        "version": {"const": 2},
        "members": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 20},
                    "relation": {"enum": ["配偶", "子女", "其他"]},
                    "age": {"type": "integer", "minimum": 0},
                    "address": {"$ref": "#/$defs/address", "description": "不同住时填写"},
                },
                "required": ["name", "relation"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "living", "visited"],
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "properties": {
                part: {"type": "string", "maxLength": 50} for part in fields.ADDRESS_PARTS
            },
            "required": ["compound", "room"],
            "additionalProperties": False,
        }
    },
}


def labels_for(schema: dict) -> dict:
    return {"fields": {path: {"label": path} for path in fields.field_index(schema)}}


# -- acceptable forms ----------------------------------------------------------------------


def test_a_form_using_every_kind_and_keyword_is_accepted():
    assert check_schema(HOUSEHOLD_VISIT) == []
    used = set()
    pending = [HOUSEHOLD_VISIT]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            used |= set(node)
            pending += node.values()
        elif isinstance(node, list):
            pending += node
    assert used >= SUPPORTED


@pytest.mark.parametrize("kind", fields.KINDS, ids=lambda k: k.name)
def test_every_documented_kind_is_accepted_and_recognised(kind):
    example = copy.deepcopy(kind.example)
    if kind.name == "group":
        example["properties"] = {"note": {"type": "string"}}
    assert check_schema(form(field=example)) == []
    if kind.widget is None:
        assert fields.kind_of(example) == kind.name
    else:  # a kind made by the UI layer: the schema's kind, with that widget
        assert fields.kind_of(example) in fields.WIDGETS[kind.widget]
        ui = {"fields": {"field": {"label": kind.title, "widget": kind.widget}}}
        assert check_ui(ui, form(field=example)) == []


@pytest.mark.parametrize(
    "pattern",
    [
        "^[0-9]{6}$",
        "^1[3-9]\\d{9}$",
        "^[\\u4e00-\\u9fa5]{2,10}$",
        "^(\\d{3}-)?\\d{8}$",
        "^(\\d{3})+$",
        "^(男|女)$",
        "^(?:ab|cd)*$",
        "^[A-Z][a-z]*( [A-Z][a-z]*)?$",
        "^(\\d{3}-?){2}\\d{4}$",
        "^(ab?){5}$",
    ],
)
def test_safe_patterns_are_accepted(pattern):
    assert check_schema(form(code=text(pattern=pattern))) == []


# -- each class of bad schema --------------------------------------------------------------


def problems_of(schema: object, **limits: int) -> list[SchemaProblem]:
    found = check_schema(schema, **limits)
    assert found, "a bad schema must get at least one problem"
    assert all(isinstance(p, SchemaProblem) and p.message for p in found)
    return found


def only(schema: object, **limits: int) -> SchemaProblem:
    found = problems_of(schema, **limits)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "ref",
    [
        "https://evil.example/schema.json",
        "http://127.0.0.1:8080/s#/x",
        "file:///etc/passwd",
        "//evil.example/s.json",
        "other.json#/$defs/a",
    ],
)
def test_remote_refs_are_refused(ref):
    problem = only(form(f={"$ref": ref}))
    assert problem == SchemaProblem("/properties/f/$ref", "不允许引用外部文件（远程 $ref）")


def test_local_refs_must_name_an_existing_definition():
    assert only(form(f={"$ref": "#/properties/g"})).message == "只能引用 #/$defs/名称"
    assert only(form(f={"$ref": "#/$defs/nowhere"})).message == "引用的定义 nowhere 不存在"


def test_remote_ids_are_refused_and_urns_accepted():
    assert only({**form(), "$id": "https://evil.example/form"}).path == "/$id"
    assert check_schema({**form(), "$id": "urn:shequyun:form:7"}) == []


def test_cyclic_refs_are_refused():
    schema = {
        **form(f={"$ref": "#/$defs/a"}),
        "$defs": {
            "a": {"$ref": "#/$defs/b"},
            "b": {"type": "array", "items": {"$ref": "#/$defs/a"}},
        },
    }
    problem = only(schema)
    assert problem.message == "循环引用：a → b → a"


@pytest.mark.parametrize("container", ["list", "dict"])
def test_a_depth_bomb_is_refused_without_recursion(container):
    bomb: object = []
    for _ in range(200_000):
        bomb = [bomb] if container == "list" else {"a": bomb}
    problem = only(form(f=text(default=bomb)))
    assert problem.message == "嵌套超过 48 层，不予处理"
    assert problem.path.startswith("/properties/f/default/")


def test_fields_nested_too_deeply_are_refused():
    schema = form()
    node = schema
    for _ in range(12):
        node["properties"] = {"g": {"type": "object", "properties": {}}}
        node = node["properties"]["g"]
    node["properties"] = {"leaf": text()}
    problem = only(schema)
    assert problem.message == "字段嵌套超过 10 层（每个 $ref 也算一层）"
    assert problem.path == "/properties/g" * 11


def test_a_ref_bomb_counts_every_expanded_field():
    definitions = {
        f"d{i}": {
            "type": "object",
            "properties": {f"p{j}": {"$ref": f"#/$defs/d{i + 1}"} for j in range(20)},
        }
        for i in range(4)
    }
    definitions["d4"] = text()
    problem = only({**form(f={"$ref": "#/$defs/d0"}), "$defs": definitions})
    assert problem == SchemaProblem("", "字段总数超过 1,000 个（含表格中的和引用展开后的）")


def test_too_many_fields_counting_table_columns():
    columns = {f"c{i}": text() for i in range(60)}
    table = {"type": "array", "items": {"type": "object", "properties": columns}}
    schema = form(**{f"t{i}": table for i in range(20)})
    assert only(schema, max_fields=1000).message.startswith("字段总数超过 1,000 个")
    assert check_schema(schema, max_fields=2000) == []


def test_a_huge_enum_is_refused():
    problem = only(form(f={"enum": [str(i) for i in range(5000)]}))
    assert problem == SchemaProblem("/properties/f/enum", "选项不能超过 1,000 个（现有 5,000 个）")


def test_choices_must_be_scalars_and_not_empty():
    found = problems_of(form(f={"enum": [{"a": 1}, [1]]}, g={"enum": []}, h={"const": [1]}))
    assert {p.path for p in found} == {
        "/properties/f/enum/0",
        "/properties/f/enum/1",
        "/properties/g/enum",
        "/properties/h/const",
    }


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a+)+$", "正则表达式不能在重复中再嵌套重复（如 (a+)+），会导致匹配极慢"),
        ("(x*)*y", "正则表达式中重复的部分不能匹配空串（如 (a?){30}），会导致匹配极慢"),
        ("^(a?){30}a{30}$", "正则表达式中重复的部分不能匹配空串（如 (a?){30}），会导致匹配极慢"),
        ("^(a|b?)+$", "正则表达式中重复的部分不能匹配空串（如 (a?){30}），会导致匹配极慢"),
        ("^([a-z0-9]+\\.)*com$", "正则表达式不能在重复中再嵌套重复（如 (a+)+），会导致匹配极慢"),
        ("^(a|ab)*c$", "正则表达式在重复中的分支不能以相同字符开头（如 (a|ab)*）"),
        ("^(\\d|[a-z]\\d)+$", "正则表达式在重复中的分支不能以相同字符开头（如 (a|ab)*）"),
        ("(a)\\1", "正则表达式不能使用反向引用"),
        ("(?=a)a", "正则表达式不能使用前瞻或后顾断言"),
        ("(?<!a)b", "正则表达式不能使用前瞻或后顾断言"),
        ("a++", "正则表达式含有不支持的写法"),
        ("(a", "正则表达式无效"),
        ("a{2000}", "正则表达式含有不支持的写法（服务器用 RE2 匹配）"),
        ("a" * 201, "正则表达式不能超过 200 个字符"),
    ],
)
def test_patterns_that_can_hang_or_do_not_compile_are_refused(pattern, message):
    assert only(form(f=text(pattern=pattern))) == SchemaProblem("/properties/f/pattern", message)


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": 5, "properties": {"a": text()}}, "/type"),
        (form(f={"type": "strnig"}), "/properties/f/type"),
        (form(f=text(minLength=-1)), "/properties/f/minLength"),
        (form(f=text(maxLength="20")), "/properties/f/maxLength"),
        (
            form(f={"type": "array", "items": text(), "uniqueItems": "yes"}),
            "/properties/f/uniqueItems",
        ),
        ({**form(f=text()), "required": "f"}, "/required"),
        ({**form(f=text()), "required": ["f", "f"]}, "/required"),
        (form(f={"type": "number", "multipleOf": 0}), "/properties/f/multipleOf"),
        ({"type": "object", "properties": []}, "/properties"),
    ],
)
def test_not_a_schema_is_refused_with_the_place(schema, path):
    assert path in {p.path for p in problems_of(schema)}


@pytest.mark.parametrize("schema", [None, [], "a form", 42, True])
def test_not_an_object_is_refused(schema):
    assert only(schema) == SchemaProblem("", "表单结构应为 JSON 对象")


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("anyOf", [text()]),
        ("allOf", [text()]),
        ("if", text()),
        ("patternProperties", {"^a": text()}),
        ("prefixItems", [text()]),
        ("$dynamicRef", "#meta"),
        ("unevaluatedProperties", False),
        ("contentEncoding", "base64"),
    ],
)
def test_unsupported_keywords_are_refused(keyword, value):
    problem = only(form(f={"type": "string", keyword: value}))
    assert problem == SchemaProblem(f"/properties/f/{keyword}", f"不支持的关键字 {keyword}")


def test_extension_keys_are_ignored():
    assert (
        check_schema({**form(f=text(**{"x-widget-hint": {"any": ["thing"]}})), "x-bureau": 1}) == []
    )


def test_subset_rules_beyond_the_meta_schema():
    schema = {
        "type": "object",
        "properties": {
            "a": {"title": "没有类型"},
            "b": {"type": "array"},
            "c": {"type": "object"},
            "d": {"type": "object", "properties": {"e": text()}, "additionalProperties": True},
            "f": text(format="color"),
            "g": text(minLength=5, maxLength=2),
            "h": {"type": "object", "properties": {"i": text()}, "$defs": {}},
            "j": True,
        },
        "required": ["a", "zzz"],
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    found = {p.path: p.message for p in problems_of(schema)}
    assert found == {
        "/properties/a": "字段需要写明 type（或 enum、const、$ref）",
        "/properties/b": "列表字段需要写明 items",
        "/properties/c": "对象字段需要在 properties 中列出它的字段",
        "/properties/d/additionalProperties": "additionalProperties 只能为 false（或不写）",
        "/properties/f/format": "不支持的格式 color，可用：date、date-time、phone、id-number、attachment、email",
        "/properties/g/minLength": "minLength 大于 maxLength，没有值能通过",
        "/properties/h/$defs": "$defs 只能写在表单最外层",
        "/properties/j": "字段定义应为对象，不能是 true 或 false",
        "/required/1": "必填字段 zzz 未在 properties 中定义",
        "/$schema": "只支持 JSON Schema 2020-12（https://json-schema.org/draft/2020-12/schema）",
    }


@pytest.mark.parametrize(
    "schema",
    [{"type": "array", "items": text()}, {"type": "object"}, {"properties": {"a": text()}}],
)
def test_the_top_level_must_be_an_object_with_fields(schema):
    problem = problems_of(schema)[-1]
    assert problem == SchemaProblem(
        "", '表单最外层应为 "type": "object"，并在 properties 中列出字段'
    )


def test_an_oversized_schema_is_refused_before_anything_else():
    problem = only(form(f=text(description="字" * 10_000_000)))
    assert problem == SchemaProblem("", "超过 256,000 字节的大小上限")


def test_size_is_measured_in_bytes_of_json():
    schema = form(f=text(description="字" * 40_000))  # 40,000 characters, 120,000 bytes
    assert check_schema(schema) == []
    assert only(schema, max_bytes=100_000).message.startswith("超过 100,000 字节的大小上限")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("name", True),
        ("_private", True),
        ("room_2", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("名字", False),
        ("1st", False),
        ("a-b", False),
        ("a.b", False),
        ("a b", False),
        ("", False),
        ("=cmd|' /C calc'!A0", False),
    ],
)
def test_property_names_must_be_safe_column_names(name, ok):
    schema = form(**{name: text()})
    if ok:
        assert check_schema(schema) == []
    else:
        assert only(schema).path.startswith("/properties/")


@pytest.mark.parametrize(
    "value",
    [{1, 2}, math.nan, math.inf, b"bytes", object()],
    ids=["set", "nan", "inf", "bytes", "object"],
)
def test_values_that_are_not_json_are_refused(value):
    assert only(form(f=text(default=value))).path in ("", "/properties/f/default")


def test_keys_that_are_not_strings_are_refused():
    assert only({"type": "object", "properties": {1: text()}}).message == "对象的键应为字符串"


def test_every_problem_is_reported_not_just_the_first():
    schema = form(
        a={"$ref": "https://evil.example/x"},
        b={"enum": list(range(2000))},
        c=text(pattern="(a+)+$"),
        d=text(oneOf=[]),
        **{"bad-name": text()},
    )
    paths = {p.path for p in problems_of(schema)}
    assert {
        "/properties/a/$ref",
        "/properties/b/enum",
        "/properties/c/pattern",
        "/properties/d/oneOf",
        "/properties/bad-name",
    } <= paths


def test_the_answer_is_cached_but_never_shared():
    schema = form(f=text(pattern="(a+)+$"))
    first = check_schema(schema)
    first.clear()
    assert check_schema(copy.deepcopy(schema)) != []


# -- the UI layer --------------------------------------------------------------------------

VISIT_UI = {
    "order": ["living", "needs", "alone_reason", "members"],
    "fields": {
        "living": {"label": "居住情况", "widget": "radio", "help": "按实际情况选择"},
        "needs": {"label": "服务需求", "widget": "checkbox"},
        "alone_reason": {
            "label": "独居原因",
            "widget": "textarea",
            "visible_if": {"field": "living", "equals": "独居"},
        },
        "members": {"label": "同住成员", "widget": "table", "renamed_from": "family"},
        "members.name": {"label": "姓名"},
        "members.relation": {"label": "关系", "widget": "select"},
        "members.other": {
            "label": "其他关系",
            "visible_if": {"field": "members.relation", "in": ["其他"]},
        },
    },
}
VISIT = form(
    living={"enum": ["独居", "与配偶同住", "与子女同住"]},
    needs={"type": "array", "items": {"enum": ["助餐", "助浴"]}, "uniqueItems": True},
    alone_reason=text(maxLength=500),
    members={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": text(),
                "relation": {"enum": ["配偶", "子女", "其他"]},
                "other": text(),
            },
        },
    },
)


def test_a_complete_ui_layer_is_accepted():
    assert check_ui(VISIT_UI, VISIT) == []
    assert check_ui(labels_for(HOUSEHOLD_VISIT), HOUSEHOLD_VISIT) == []


def test_labels_are_required_for_every_field_nested_ones_too():
    ui = copy.deepcopy(VISIT_UI)
    del ui["fields"]["members.name"]
    ui["fields"]["needs"] = {"widget": "checkbox"}
    assert check_ui(ui, VISIT) == [
        SchemaProblem("/fields/needs", "字段 needs 缺少中文标签 label"),
        SchemaProblem("/fields/members.name", "字段 members.name 缺少中文标签 label"),
    ]


def test_fields_that_do_not_exist_are_problems():
    ui = copy.deepcopy(VISIT_UI)
    ui["fields"]["nowhere"] = {"label": "无"}
    ui["order"].append("ghost")
    ui["fields"]["alone_reason"]["visible_if"] = {"field": "ghost", "equals": 1}
    assert check_ui(ui, VISIT) == [
        SchemaProblem("/order/4", "order 中的 ghost 不是表单的顶层字段"),
        SchemaProblem("/fields/alone_reason/visible_if/field", "visible_if 引用了不存在的字段"),
        SchemaProblem("/fields/nowhere", "界面设置引用了不存在的字段 nowhere"),
    ]


def test_order_lists_every_top_level_field_once():
    ui = {**VISIT_UI, "order": ["living", "living", "needs"]}
    assert check_ui(ui, VISIT) == [
        SchemaProblem("/order/1", "living 在 order 中重复"),
        SchemaProblem("/order", "字段 alone_reason 未出现在 order 中"),
        SchemaProblem("/order", "字段 members 未出现在 order 中"),
    ]


def test_widgets_must_exist_and_suit_the_field():
    ui = copy.deepcopy(VISIT_UI)
    ui["fields"]["living"]["widget"] = "slider"
    ui["fields"]["needs"]["widget"] = "switch"
    found = check_ui(ui, VISIT)
    assert found[0].path == "/fields/living/widget"
    assert found[0].message.startswith("widget 应为 text、textarea、number")
    assert found[1] == SchemaProblem("/fields/needs/widget", "switch 不适用于多选字段")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            {"field": "living"},
            'visible_if 应为 {"field": 字段, "equals": 值} 或 {"field": 字段, "in": [值, …]}',
        ),
        (
            {"field": "living", "equals": "独居", "in": []},
            'visible_if 应为 {"field": 字段, "equals": 值} 或 {"field": 字段, "in": [值, …]}',
        ),
        ({"field": "living", "in": []}, "in 应为非空的值列表"),
        ({"field": "living", "equals": "群居"}, "群居 不是字段 living 的选项"),
        (
            {"field": "living", "equals": ["独居"]},
            "visible_if 的值只能是文字、数字、true/false 或 null",
        ),
        ({"field": "members.name", "equals": "x"}, "visible_if 只能引用同一层的其他字段"),
        ({"field": "alone_reason", "equals": "x"}, "visible_if 只能引用同一层的其他字段"),
    ],
)
def test_visible_if_conditions_are_checked(condition, message):
    ui = copy.deepcopy(VISIT_UI)
    ui["fields"]["alone_reason"]["visible_if"] = condition
    assert [p.message for p in check_ui(ui, VISIT)] == [message]


def test_visible_if_on_a_multiple_choice_names_its_choices():
    ui = copy.deepcopy(VISIT_UI)
    ui["fields"]["alone_reason"]["visible_if"] = {"field": "needs", "in": ["助餐", "助洁"]}
    assert [p.message for p in check_ui(ui, VISIT)] == ["助洁 不是字段 needs 的选项"]


def test_visible_if_loops_are_refused():
    schema = form(a={"type": "boolean"}, b={"type": "boolean"}, c={"type": "boolean"})
    ui = {
        "fields": {
            "a": {"label": "甲", "visible_if": {"field": "c", "equals": True}},
            "b": {"label": "乙", "visible_if": {"field": "a", "equals": True}},
            "c": {"label": "丙", "visible_if": {"field": "b", "equals": True}},
        }
    }
    assert check_ui(ui, schema) == [
        SchemaProblem("/fields/a/visible_if", "条件显示循环依赖：a → c → b → a")
    ]


def test_renamed_from_must_not_clash():
    schema = form(a=text(), b=text(), c=text())
    ui = {
        "fields": {
            "a": {"label": "甲", "renamed_from": "old"},
            "b": {"label": "乙", "renamed_from": "old"},
            "c": {"label": "丙", "renamed_from": "a"},
        }
    }
    assert check_ui(ui, schema) == [
        SchemaProblem("/fields/b/renamed_from", "a 和 b 不能都由 old 改名而来"),
        SchemaProblem("/fields/c/renamed_from", "a 仍是本版的字段，不能作为改名来源"),
    ]


def test_field_settings_are_checked():
    ui = copy.deepcopy(VISIT_UI)
    ui["fields"]["living"] = {"label": " ", "help": 3, "tooltip": "x", "renamed_from": "旧名"}
    ui["fields"]["members.name"]["renamed_from"] = "full_name"
    ui["theme"] = "dark"
    assert check_ui(ui, VISIT) == [
        SchemaProblem("/theme", "界面设置不支持 theme"),
        SchemaProblem("/fields/living/tooltip", "字段设置不支持 tooltip"),
        SchemaProblem("/fields/living/label", "label 应为 1 到 100 个字的中文标签"),
        SchemaProblem("/fields/living/help", "help 应为不超过 1000 个字的说明"),
        SchemaProblem("/fields/living/renamed_from", "renamed_from 应为上一版中的字段名"),
        SchemaProblem("/fields/members.name/renamed_from", "只有顶层字段可以写 renamed_from"),
    ]


@pytest.mark.parametrize("ui", [None, [], "ui", {"fields": []}])
def test_a_ui_layer_of_the_wrong_shape_is_a_problem(ui):
    assert check_ui(ui, VISIT)


def test_a_hostile_ui_layer_does_not_hang():
    bomb: object = {}
    for _ in range(100_000):
        bomb = {"a": bomb}
    assert check_ui({"fields": bomb}, VISIT)[0].message == "嵌套超过 16 层，不予处理"
    assert check_ui({"fields": {"x" * 300_000: {}}}, VISIT)[0].message.startswith(
        "超过 256,000 字节"
    )


def test_the_ui_of_a_bad_schema_is_not_checked():
    assert check_ui(VISIT_UI, {"type": "object"}) == [
        SchemaProblem("", "表单结构未通过检查，无法检查界面设置")
    ]


# -- the reference for form authors cannot drift ---------------------------------------------

FORMS_MD = REPO / "docs" / "collection" / "forms.md"


def test_the_example_in_the_reference_is_accepted():
    example = json.loads(
        FORMS_MD.read_text(encoding="utf-8").split("```json\n", 1)[1].split("```")[0]
    )
    assert check_schema(example["schema"]) == []
    assert check_ui(example["ui"], example["schema"]) == []


def test_the_reference_names_every_keyword_format_and_widget():
    text_of_reference = FORMS_MD.read_text(encoding="utf-8")
    for name in [*SUPPORTED, *fields.FORMATS, *fields.WIDGETS]:
        assert f"`{name}`" in text_of_reference, name
