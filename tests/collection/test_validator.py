"""compile_validator: every error of a submission, with its path and a Chinese message, fast."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shequyun.collection import fields
from shequyun.collection.validator import FieldError, InvalidForm, compile_validator
from shequyun.residents.idnumber import check_digit


def id_number(first17: str = "31011519800101123") -> str:
    return first17 + check_digit(first17)


VALID_ID = id_number()
WRONG_CHECK_DIGIT = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
        "step": {"type": "number", "multipleOf": 0.5},
        "living": {"enum": ["独居", "与配偶同住"]},
        "alive": {"enum": [True, False]},
        "needs": {
            "type": "array",
            "items": {"enum": ["助餐", "助浴", "助医"]},
            "uniqueItems": True,
            "minItems": 1,
            "maxItems": 2,
        },
        "visited": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "phone": {"type": ["string", "null"], "format": "phone"},
        "id_number": {"type": "string", "format": "id-number"},
        "email": {"type": "string", "format": "email"},
        "photo": {"type": "string", "format": "attachment"},
        "postcode": {"type": "string", "pattern": "^[0-9]{6}$"},
        "version": {"const": 2},
        "address": {"$ref": "#/$defs/address"},
        "members": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 4},
                    "age": {"type": "integer", "minimum": 0},
                    "address": {"$ref": "#/$defs/address"},
                },
                "required": ["name", "age"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "age", "living"],
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "properties": {p: {"type": "string", "maxLength": 10} for p in fields.ADDRESS_PARTS},
            "required": ["compound", "room"],
            "additionalProperties": False,
        }
    },
}

VALID = {
    "name": "张三",
    "age": 82,
    "score": 99.5,
    "step": 1.5,
    "living": "独居",
    "alive": True,
    "needs": ["助餐", "助医"],
    "visited": False,
    "born": "1944-02-29",
    "at": "2026-11-27T09:30:00+08:00",
    "phone": None,
    "id_number": VALID_ID,
    "email": "zhang@example.cn",
    "photo": "att_0123456789abcdefXYZ",
    "postcode": "200120",
    "version": 2.0,
    "address": {"compound": "潍坊一村", "building": "12号", "room": "301"},
    "members": [{"name": "李四", "age": 80, "address": {"compound": "梅园", "room": "2"}}],
}


@pytest.fixture(scope="module")
def validator():
    return compile_validator(SCHEMA)


def messages(validator, data) -> dict[str, str]:
    errors = validator.errors(data)
    found = {e.path: e.message for e in errors}
    assert len(found) == len(errors), "one error per place in these examples"
    return found


def test_a_valid_submission_has_no_errors(validator):
    assert validator.is_valid(VALID)
    assert validator.errors(VALID) == []
    assert jsonschema.Draft202012Validator(SCHEMA, format_checker=fields.format_checker()).is_valid(
        VALID
    )


def test_every_error_is_reported_with_its_path_and_a_chinese_message(validator):
    data = {
        "name": "张" * 21,
        "age": 1.5,
        "score": 100,
        "step": 0.3,
        "living": "群居",
        "alive": 1,
        "needs": ["助餐", "助餐", "助洁"],
        "visited": "否",
        "born": "2026-02-30",
        "at": "2026-11-27 09:30",
        "phone": "1380013800",
        "id_number": WRONG_CHECK_DIGIT,
        "email": "zhang",
        "photo": "../../etc/passwd",
        "postcode": "20012",
        "version": 3,
        "address": {"compound": "潍坊一村", "floor": 3},
        "members": [
            {"name": "李四", "age": 80},
            {"name": "王五王五王", "age": -1, "address": {"room": 301}},
            {"age": "八十", "pet": "猫"},
            "赵六",
        ],
        "extra": 1,
    }
    found = [(e.path, e.message) for e in validator.errors(data)]
    assert found == [
        ("name", "不能超过 20 个字"),
        ("age", "应为整数"),
        ("score", "应小于 100"),
        ("step", "应为 0.5 的整数倍"),
        ("living", "应为以下选项之一：独居、与配偶同住"),
        ("alive", "应为以下选项之一：是、否"),
        ("needs", "最多填写 2 项"),
        ("needs", "不能有重复项"),
        ("needs[2]", "应为以下选项之一：助餐、助浴、助医"),
        ("visited", "应为“是”或“否”"),
        ("born", "日期格式应为 2026-11-27"),
        ("at", "时间格式应为 2026-11-27T09:30:00+08:00"),
        ("phone", "电话号码应为 11 位手机号或带区号的固定电话"),
        ("id_number", "身份证号校验位不正确"),
        ("email", "电子邮箱格式不正确"),
        ("photo", "附件无效，请重新上传"),
        ("postcode", "格式不正确"),
        ("version", "应为 2"),
        ("address.room", "必填"),
        ("address.floor", "表单中没有这个字段"),
        ("members", "最多填写 3 项"),
        ("members[1].name", "不能超过 4 个字"),
        ("members[1].age", "不能小于 0"),
        ("members[1].address.compound", "必填"),
        ("members[1].address.room", "应为文字"),
        ("members[2].name", "必填"),
        ("members[2].age", "应为整数"),
        ("members[2].pet", "表单中没有这个字段"),
        ("members[3]", "应为一组字段"),
        ("extra", "表单中没有这个字段"),
    ]
    assert not validator.is_valid(data)


def test_errors_carry_pointer_field_and_keyword(validator):
    errors = validator.errors(
        {"name": "张三", "age": 1, "living": "独居", "members": [{"name": "李"}]}
    )
    assert errors == [
        FieldError("members[0].age", "/members/0/age", "members.age", "必填", "required")
    ]


def test_required_and_the_whole_document(validator):
    assert messages(validator, {}) == {"name": "必填", "age": "必填", "living": "必填"}
    for data in ([], "x", None, 3):
        assert validator.errors(data) == [
            FieldError("", "", "", "提交的数据应为 JSON 对象", "type")
        ]
        assert not validator.is_valid(data)


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"type": "string", "minLength": 1}, "", "不能为空"),
        ({"type": "string", "minLength": 3}, "张三", "不能少于 3 个字"),
        ({"type": "integer", "minimum": 0}, -1, "不能小于 0"),
        ({"type": "integer", "maximum": 120}, 121, "不能大于 120"),
        ({"type": "number", "exclusiveMinimum": 0}, 0, "应大于 0"),
        ({"type": "number", "exclusiveMaximum": 1.5}, 1.5, "应小于 1.5"),
        ({"type": "integer", "multipleOf": 10}, 15, "应为 10 的整数倍"),
        ({"type": "integer"}, True, "应为整数"),
        ({"type": "number"}, "1", "应为数字"),
        ({"type": ["string", "null"]}, 1, "应为文字或空值"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [], "至少填写 1 项"),
        ({"type": "array", "items": {"type": "string"}}, "a", "应为列表"),
        ({"enum": [1, 2.5, None]}, True, "应为以下选项之一：1、2.5、空"),
        ({"const": "同意"}, "不同意", "应为 同意"),
        (
            {"type": "string", "format": "id-number"},
            "31011519800101123",
            "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X",
        ),
        (
            {"type": "string", "format": "id-number"},
            "310115" + "19801301" + "1234",
            "身份证号中的出生日期无效",
        ),
        (
            {"type": "string", "format": "id-number"},
            VALID_ID.lower()[:17] + " ",
            "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X",
        ),
    ],
)
def test_messages(schema, value, message):
    validator = compile_validator({"type": "object", "properties": {"f": schema}})
    assert [e.message for e in validator.errors({"f": value})] == [message]


def test_a_long_choice_list_is_shortened_in_the_message():
    choices = [f"选项{i}" for i in range(30)]
    validator = compile_validator({"type": "object", "properties": {"f": {"enum": choices}}})
    message = validator.errors({"f": "无"})[0].message
    assert message.startswith("应为以下选项之一：选项0、选项1、") and message.endswith(
        "选项19 等 30 项"
    )


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        (
            "date",
            ["2026-11-27", "2024-02-29"],
            ["2026-2-1", "20261127", "2026-02-29", "2026-11-27\n", "２０２６-11-27"],
        ),
        (
            "date-time",
            ["2026-11-27T09:30:00Z", "2026-11-27t09:30:00.123+08:00"],
            ["2026-11-27T24:00:00Z", "2026-11-27T09:30:00", "2026-11-27"],
        ),
        (
            "phone",
            ["13800138000", "021-64381234", "02164381234"],
            [
                "1380013800",
                "138 0013 8000",
                "12800138000",
                "13800138000\n",
                "１３８００１３８０００",
            ],
        ),
        ("id-number", [VALID_ID], [WRONG_CHECK_DIGIT, VALID_ID + " ", " " + VALID_ID]),
        (
            "attachment",
            ["att_" + "a" * 16, "att_" + "A-_9" * 16],
            ["att_" + "a" * 15, "att_" + "a" * 65, "att_../../x" + "a" * 16],
        ),
        ("email", ["a@b.cn", "zhang.san@shanghai.gov.cn"], ["a@b", "a b@c.cn", "@b.cn"]),
    ],
)
def test_formats(fmt, good, bad):
    validator = compile_validator(
        {"type": "object", "properties": {"f": {"type": "string", "format": fmt}}}
    )
    for value in good:
        assert validator.errors({"f": value}) == [], value
    for value in bad:
        assert [e.keyword for e in validator.errors({"f": value})] == ["format"], value
    assert validator.is_valid({"f": 3}) is False  # a type error, not a format one
    assert compile_validator(
        {"type": "object", "properties": {"f": {"format": fmt, "enum": [3]}}}
    ).is_valid({"f": 3})


def test_phone_agrees_with_the_residents_rule():
    from shequyun.residents.idnumber import validate_phone

    for value in ["13800138000", "021-64381234", "0512-1234567", "19912345678", "010-1234567"]:
        assert validate_phone(value) == value
        assert fields.FORMATS["phone"](value) is None


def test_patterns_follow_ecma_digits_and_end_of_text():
    validator = compile_validator(
        {"type": "object", "properties": {"f": {"type": "string", "pattern": "^\\d{6}$"}}}
    )
    assert validator.is_valid({"f": "200120"})
    assert not validator.is_valid({"f": "２００１２０"})  # full-width digits: \d is [0-9]
    assert not validator.is_valid({"f": "200120\n"})  # $ is the end of the text


def test_patterns_match_in_linear_time():
    validator = compile_validator(
        {"type": "object", "properties": {"f": {"type": "string", "pattern": "^\\d*\\d*\\d*$"}}}
    )
    assert not validator.is_valid({"f": "1" * 200_000 + "x"})  # Python's re would take hours


def test_chinese_patterns_with_unicode_escapes():
    validator = compile_validator(
        {
            "type": "object",
            "properties": {"f": {"type": "string", "pattern": "^[\\u4e00-\\u9fa5]{2,4}$"}},
        }
    )
    assert validator.is_valid({"f": "张三"})
    assert not validator.is_valid({"f": "Zhang"})


def test_integers_and_booleans_are_kept_apart_as_json_schema_does():
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "one": {"const": 1},
            "choice": {"enum": [True]},
            "tags": {"type": "array", "items": {}, "uniqueItems": True},
        },
    }
    schema["properties"]["tags"]["items"] = {"type": ["integer", "boolean"]}
    validator = compile_validator(schema)
    assert validator.is_valid({"n": 3.0, "one": 1.0, "choice": True, "tags": [1, True, 0, False]})
    assert not validator.is_valid({"n": True})
    assert not validator.is_valid({"one": True})
    assert not validator.is_valid({"choice": 1})
    assert not validator.is_valid({"tags": [1, 1.0]})


def test_unique_items_compares_objects_by_value():
    schema = {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "object", "properties": {"a": {"type": "number"}}},
            }
        },
    }
    validator = compile_validator(schema)
    assert validator.is_valid({"rows": [{"a": 1}, {"a": 2}]})
    assert validator.errors({"rows": [{"a": 1}, {"a": 1.0}]}) == [
        FieldError("rows", "/rows", "rows", "不能有重复项", "uniqueItems")
    ]


def test_ref_with_sibling_keywords_applies_both():
    schema = {
        "type": "object",
        "properties": {"code": {"$ref": "#/$defs/code", "maxLength": 3}},
        "$defs": {"code": {"type": "string", "minLength": 2}},
    }
    validator = compile_validator(schema)
    assert validator.is_valid({"code": "ab"})
    assert [e.message for e in validator.errors({"code": "a"})] == ["不能少于 2 个字"]
    assert [e.message for e in validator.errors({"code": "abcd"})] == ["不能超过 3 个字"]


def test_values_from_the_schema_never_become_code():
    sneaky = "'); import os; os.system('echo pwned'); ('"
    schema = {
        "type": "object",
        "title": sneaky,
        "properties": {
            "f": {"enum": [sneaky, "\\", "{x}"], "description": sneaky},
            "g": {"type": "string", "pattern": "^'\\)\"{}$"},
            "h": {"const": "{__import__('os')}"},
        },
    }
    validator = compile_validator(schema)
    assert validator.is_valid({"f": sneaky, "g": "')\"{}", "h": "{__import__('os')}"})
    assert "pwned" not in validator.source
    assert [e.path for e in validator.errors({"f": "x", "g": "x", "h": "x"})] == ["f", "g", "h"]


def test_keys_of_the_data_are_escaped_in_pointers():
    validator = compile_validator({**SCHEMA, "required": []})
    [error] = validator.errors({"a/b~c": 1})
    assert (error.path, error.pointer) == ("a/b~c", "/a~1b~0c")


def test_invalid_forms_are_not_compiled():
    with pytest.raises(InvalidForm, match="不支持的关键字 anyOf") as caught:
        compile_validator({"type": "object", "properties": {"f": {"anyOf": []}}})
    assert caught.value.problems[0].path == "/properties/f/anyOf"
    with pytest.raises(InvalidForm, match="缺少中文标签"):
        compile_validator(SCHEMA, ui={"fields": {}})


def test_deep_data_does_not_break_the_validator(validator):
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    assert validator.errors({**VALID, "members": deep})[0].path == "members[0]"


# -- visible_if ----------------------------------------------------------------------------

CONDITIONAL = {
    "type": "object",
    "properties": {
        "living": {"enum": ["独居", "与配偶同住"]},
        "reason": {"type": "string", "maxLength": 10},
        "helper": {"type": "string"},
        "needs": {"type": "array", "items": {"enum": ["助餐", "助医"]}},
        "meal_days": {"type": "integer", "minimum": 1},
        "members": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "disabled": {"type": "boolean"},
                    "disability": {"enum": ["视力", "肢体"]},
                },
                "required": ["disabled", "disability"],
            },
        },
    },
    "required": ["living", "reason", "helper", "meal_days"],
    "additionalProperties": False,
}
CONDITIONAL_UI = {
    "fields": {
        "living": {"label": "居住情况"},
        "reason": {"label": "独居原因", "visible_if": {"field": "living", "equals": "独居"}},
        "helper": {"label": "帮扶人", "visible_if": {"field": "reason", "in": ["子女在外地"]}},
        "needs": {"label": "需求"},
        "meal_days": {"label": "助餐天数", "visible_if": {"field": "needs", "equals": "助餐"}},
        "members": {"label": "成员"},
        "members.disabled": {"label": "是否残疾"},
        "members.disability": {
            "label": "残疾类别",
            "visible_if": {"field": "members.disabled", "equals": True},
        },
    }
}


@pytest.fixture(scope="module")
def conditional():
    return compile_validator(CONDITIONAL, ui=CONDITIONAL_UI)


def test_a_hidden_field_is_not_required(conditional):
    assert conditional.errors({"living": "与配偶同住"}) == []
    assert [e.path for e in conditional.errors({"living": "独居"})] == ["reason"]
    assert [e.path for e in conditional.errors({"living": "独居", "reason": "子女在外地"})] == [
        "helper"
    ]


def test_a_hidden_fields_value_is_ignored_and_can_be_stripped(conditional):
    data = {
        "living": "与配偶同住",
        "reason": "x" * 50,
        "helper": 3,
        "needs": ["助医"],
        "meal_days": 0,
    }
    assert conditional.errors(data) == []
    assert conditional.strip_hidden(data) == {"living": "与配偶同住", "needs": ["助医"]}
    assert data["reason"] == "x" * 50  # the submission itself is not changed


def test_a_condition_on_a_multiple_choice_means_it_contains_the_value(conditional):
    base = {"living": "与配偶同住"}
    assert [e.path for e in conditional.errors({**base, "needs": ["助医", "助餐"]})] == [
        "meal_days"
    ]
    assert conditional.errors({**base, "needs": ["助医"]}) == []


def test_conditions_inside_table_rows_are_per_row(conditional):
    data = {
        "living": "与配偶同住",
        "members": [{"disabled": False}, {"disabled": True}, {"disabled": False, "disability": 1}],
    }
    assert [e.path for e in conditional.errors(data)] == ["members[1].disability"]
    assert conditional.strip_hidden(data)["members"] == [
        {"disabled": False},
        {"disabled": True},
        {"disabled": False},
    ]


def test_without_the_ui_layer_every_field_counts():
    plain = compile_validator(CONDITIONAL)
    assert [e.path for e in plain.errors({"living": "与配偶同住"})] == [
        "reason",
        "helper",
        "meal_days",
    ]


# -- the same answers as jsonschema --------------------------------------------------------

ALPHABET = "ab09 -_X市男女é"
PATTERNS = ["^[0-9]{2,4}$", "^a", "b$", "^(男|女)$", "[0-9]", "^[a-b]*$", "^\\d{2}-?\\d$", "市"]
FORMAT_SAMPLES = {
    "date": ["2026-11-27", "2026-02-30", "2026-1-1"],
    "date-time": ["2026-11-27T09:30:00+08:00", "2026-11-27T25:00:00Z", "2026-11-27"],
    "phone": ["13800138000", "021-64381234", "12345"],
    "id-number": [VALID_ID, WRONG_CHECK_DIGIT, "x"],
    "attachment": ["att_" + "b" * 20, "att_x"],
    "email": ["a@b.cn", "ab"],
}
NAMES = ["a", "b", "c_1", "_d"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.5, -1.5, 0.5]),
    st.text(ALPHABET, max_size=3),
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([*NAMES, "zz"]), inner, max_size=3)
    ),
    max_leaves=5,
)


def bounds(draw, low_key: str, high_key: str, values) -> dict:
    chosen = {}
    low, high = draw(st.none() | values), draw(st.none() | values)
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None:
        chosen[low_key] = low
    if high is not None:
        chosen[high_key] = high
    return chosen


@st.composite
def leaf_schemas(draw) -> dict:
    kind = draw(
        st.sampled_from(["string", "integer", "number", "boolean", "enum", "const", "mixed"])
    )
    schema: dict = {}
    if kind == "string":
        schema = {"type": draw(st.sampled_from(["string", ["string", "null"]]))}
        schema |= bounds(draw, "minLength", "maxLength", st.integers(0, 4))
        if draw(st.booleans()):
            schema["pattern"] = draw(st.sampled_from(PATTERNS))
        if draw(st.integers(0, 3)) == 0:
            schema["format"] = draw(st.sampled_from(list(fields.FORMATS)))
    elif kind in ("integer", "number"):
        schema = {"type": kind}
        numbers = st.sampled_from([-2, 0, 1, 2.5, 3])
        schema |= bounds(draw, "minimum", "maximum", numbers)
        schema |= bounds(draw, "exclusiveMinimum", "exclusiveMaximum", numbers)
        if draw(st.booleans()):
            schema["multipleOf"] = draw(st.sampled_from([1, 2, 0.5, 0.1, 3]))
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "enum":
        schema = {"enum": draw(st.lists(scalars, min_size=1, max_size=4))}
        if draw(st.booleans()):
            schema["type"] = draw(
                st.sampled_from(["string", "integer", "number", "boolean", "null"])
            )
    elif kind == "const":
        schema = {"const": draw(scalars)}
    else:  # no type: each keyword applies only to values of its kind
        schema = {
            "enum": draw(st.lists(scalars, min_size=1, max_size=4)),
            "maxLength": 1,
            "minimum": 0,
        }
    return schema


def containers(children):
    objects = st.builds(
        lambda props, required, closed: {
            "type": "object",
            "properties": props,
            **({"required": sorted(set(required) & set(props))} if required else {}),
            **({"additionalProperties": False} if closed else {}),
        },
        st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=3),
        st.lists(st.sampled_from(NAMES), max_size=3),
        st.booleans(),
    )
    arrays = st.builds(
        lambda items, extra: {"type": "array", "items": items, **extra},
        children,
        st.fixed_dictionaries(
            {},
            optional={
                "minItems": st.integers(0, 1),
                "maxItems": st.integers(2, 3),
                "uniqueItems": st.booleans(),
            },
        ),
    )
    return objects | arrays


@st.composite
def forms(draw) -> dict:
    properties = draw(
        st.dictionaries(
            st.sampled_from(NAMES),
            st.recursive(leaf_schemas(), containers, max_leaves=6),
            min_size=1,
            max_size=4,
        )
    )
    schema: dict = {"type": "object", "properties": properties}
    required = draw(st.lists(st.sampled_from(sorted(properties)), max_size=3, unique=True))
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    if draw(st.booleans()):  # move one field behind a $ref, sometimes with a keyword beside it
        name = sorted(properties)[0]
        schema["$defs"] = {"shared": properties[name]}
        properties[name] = {"$ref": "#/$defs/shared"} | draw(
            st.sampled_from([{}, {"title": "共用"}, {"const": 1}])
        )
    return schema


def values_for(schema: dict, defs: dict) -> st.SearchStrategy:
    if "$ref" in schema:
        return values_for(defs["shared"], defs)
    options = [junk]
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        options.append(st.just(schema["const"]))
    declared = schema.get("type", [])
    for kind in [declared] if isinstance(declared, str) else declared:
        if kind == "string":
            options.append(st.text(ALPHABET, max_size=6))
            if "format" in schema:
                options.append(st.sampled_from(FORMAT_SAMPLES[schema["format"]]))
        elif kind in ("integer", "number"):
            options.append(st.integers(-4, 4) | st.sampled_from([0.5, 2.0, -1.0, 0.3, 2.5, 3.0]))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
        elif kind == "array":
            options.append(st.lists(values_for(schema["items"], defs), max_size=4))
        elif kind == "object":
            properties = {k: values_for(v, defs) for k, v in schema["properties"].items()}
            required = [k for k in schema.get("required", []) if k in properties]
            complete = st.fixed_dictionaries(
                {k: properties[k] for k in required},
                optional={k: v for k, v in properties.items() if k not in required},
            )
            options += [complete, complete, st.fixed_dictionaries({}, optional=properties)]
            options.append(
                st.builds(
                    lambda d, extra: {**d, **extra},
                    complete,
                    st.dictionaries(st.just("zz"), scalars, max_size=1),
                )
            )
    typed = options[1:]
    return st.one_of(*typed, *typed, junk) if typed else junk


def jsonschema_paths(errors) -> set[str]:
    found = set()
    for error in errors:
        base = "".join(f"/{p}" for p in error.absolute_path)
        if error.validator == "required":
            found |= {
                f"{base}/{name}" for name in error.validator_value if name not in error.instance
            }
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            found |= {f"{base}/{key}" for key in error.instance if key not in known}
        else:
            found.add(base)
    return found


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_the_same_verdict_and_failing_places_as_jsonschema(data):
    schema = data.draw(forms(), label="schema")
    assert fields_problems(schema) == []
    document = data.draw(values_for(schema, schema.get("$defs", {})), label="document")
    reference = jsonschema.Draft202012Validator(schema, format_checker=fields.format_checker())
    ours = compile_validator(schema)
    expected = reference.is_valid(document)
    event("valid" if expected else "invalid")
    assert ours.is_valid(document) is expected
    errors = ours.errors(document)
    assert (errors == []) is expected
    assert {e.pointer for e in errors} == jsonschema_paths(reference.iter_errors(document))


def fields_problems(schema: dict) -> list:
    from shequyun.collection.schema_check import check_schema

    return check_schema(copy.deepcopy(schema))


def test_a_form_without_conditions_strips_nothing():
    plain = compile_validator(
        {
            "type": "object",
            "properties": {
                "reason": {"type": "string"},
                "members": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
            },
        }
    )
    data = {"reason": "x", "members": [{"name": "张三", "extra": 1}], "other": None}
    assert plain.strip_hidden(data) == {
        "reason": "x",
        "members": [{"name": "张三", "extra": 1}],
        "other": None,
    }
