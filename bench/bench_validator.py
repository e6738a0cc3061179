"""Validating a 250-field form submission: our compiled validator vs fastjsonschema, jsonschema.

The form is built here: 240 top-level fields of every kind cadres use (text, numbers, dates,
single and multiple choice with Chinese options, yes/no, phone, ID number, addresses behind a
``$ref``, attachments, patterns) and a table of 10 columns filled with 5 rows, 250 fields in all.
The valid document is checked N times in a row by each of: our validator
(``compile_validator(schema).errors(doc)``, which returns every error and is what submissions go
through), a cached ``jsonschema.Draft202012Validator`` (``is_valid``) and a function compiled by
``fastjsonschema`` (raises on the first error). All three assert the same formats with the same
checks (``fields.FORMATS``). An invalid document with 20 errors is then reported in full by our
validator and by jsonschema's ``iter_errors``. The validators take turns within each round;
medians of the rounds are reported as validations per second.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _common import Figure, Result, median, reproduce, spread

TOP_LEVEL = 240
ROWS = 5


@dataclass(frozen=True)
class Plan:
    rounds: int
    valid: int  # validations per round for ours and fastjsonschema (jsonschema does a tenth)
    invalid: int  # full error reports per round


FULL = Plan(rounds=15, valid=1_000, invalid=250)
QUICK = Plan(rounds=1, valid=20, invalid=5)

LIVING = ["独居", "与配偶同住", "与子女同住", "与其他亲属同住", "养老机构"]
HUKOU = ["本市户籍", "外省市户籍", "港澳台", "外籍"]
POLITICAL = ["中共党员", "共青团员", "民主党派", "群众"]
NEEDS = ["助餐", "助浴", "助洁", "助急", "助医", "助行"]
HEALTH = ["良好", "一般", "较差", "失能"]
RELATIONS = ["配偶", "子女", "孙子女", "父母", "兄弟姐妹", "其他"]


def form() -> tuple[dict[str, Any], dict[str, Any]]:
    """The 250-field schema and a valid document for it."""
    from shequyun.residents.idnumber import check_digit

    first17 = "31011519450301102"
    id_number = first17 + check_digit(first17)
    kinds: list[tuple[dict[str, Any], Any]] = [
        ({"type": "string", "maxLength": 50}, "潍坊路 123 弄"),
        ({"type": "integer", "minimum": 0, "maximum": 150}, 82),
        ({"enum": LIVING}, "独居"),
        ({"type": "string", "format": "date"}, "2026-11-27"),
        ({"type": "boolean"}, True),
        ({"type": "string", "format": "phone"}, "13800138000"),
        ({"type": "number", "minimum": 0, "multipleOf": 0.01}, 1234.5),
        ({"type": "string", "enum": HUKOU}, "本市户籍"),
        (
            {"type": "array", "items": {"enum": NEEDS}, "uniqueItems": True, "maxItems": 6},
            ["助餐", "助医"],
        ),
        ({"type": "string", "format": "id-number"}, id_number),
        ({"$ref": "#/$defs/address"}, {"compound": "潍坊一村", "building": "12号", "room": "301"}),
        ({"type": "string", "maxLength": 2000}, "老人身体尚可，子女每周探望一次。"),
        ({"enum": POLITICAL}, "群众"),
        ({"type": "string", "format": "attachment"}, "att_8f3a9c2b7d1e4f60a5b9"),
        ({"type": "string", "pattern": "^[0-9]{6}$"}, "200120"),
        ({"type": ["string", "null"], "enum": [*HEALTH, None]}, "良好"),
    ]
    properties: dict[str, Any] = {}
    document: dict[str, Any] = {}
    for index in range(TOP_LEVEL):
        schema, value = kinds[index % len(kinds)]
        properties[f"q{index:03d}"] = copy.deepcopy(schema)
        document[f"q{index:03d}"] = copy.deepcopy(value)
    row = {
        "name": ({"type": "string", "minLength": 2, "maxLength": 20}, "李四"),
        "relation": ({"enum": RELATIONS}, "子女"),
        "age": ({"type": "integer", "minimum": 0, "maximum": 150}, 55),
        "id_number": ({"type": "string", "format": "id-number"}, id_number),
        "phone": ({"type": "string", "format": "phone"}, "021-64381234"),
        "lives_with": ({"type": "boolean"}, False),
        "health": ({"enum": HEALTH}, "一般"),
        "income": ({"type": "number", "minimum": 0}, 6800),
        "since": ({"type": "string", "format": "date"}, "2010-05-01"),
        "remark": ({"type": "string", "maxLength": 200}, "在浦东工作"),
    }
    properties["members"] = {
        "type": "array",
        "maxItems": 20,
        "items": {
            "type": "object",
            "properties": {name: schema for name, (schema, _) in row.items()},
            "required": ["name", "relation", "age"],
            "additionalProperties": False,
        },
    }
    document["members"] = [{name: value for name, (_, value) in row.items()} for _ in range(ROWS)]
    schema = {
        "type": "object",
        "properties": properties,
        "required": [f"q{i:03d}" for i in range(120)] + ["members"],
        "additionalProperties": False,
        "$defs": {
            "address": {
                "type": "object",
                "properties": {
                    part: {"type": "string", "maxLength": 50}
                    for part in ("compound", "building", "entrance", "room")
                },
                "required": ["compound", "room"],
                "additionalProperties": False,
            }
        },
    }
    return schema, document


def invalid(document: dict[str, Any]) -> dict[str, Any]:
    """The valid document with 20 errors, top-level and in the table."""
    bad = copy.deepcopy(document)
    bad["q000"] = "长" * 51  # maxLength
    bad["q001"] = -1  # minimum
    bad["q002"] = "群居"  # enum
    bad["q003"] = "2026-02-30"  # date
    bad["q004"] = "是"  # type
    bad["q005"] = "1380013800"  # phone
    bad["q006"] = 1.005  # multipleOf
    bad["q008"] = ["助餐", "助餐"]  # uniqueItems
    bad["q009"] = bad["q009"][:17] + ("0" if bad["q009"][17] != "0" else "1")  # check digit
    bad["q010"] = {"compound": "潍坊一村"}  # required room
    bad["q014"] = "20012"  # pattern
    del bad["q017"]  # required
    bad["extra"] = 1  # additionalProperties
    bad["members"][0]["age"] = "五十五"  # type
    bad["members"][1]["relation"] = "邻居"  # enum
    bad["members"][2]["name"] = "李"  # minLength
    bad["members"][3]["since"] = "2010/05/01"  # date
    bad["members"][4]["pet"] = "猫"  # additionalProperties
    del bad["members"][4]["name"]  # required
    bad["q021"] = "13800138000x"  # phone
    return bad


def run(*, quick: bool = False) -> list[Result]:
    import fastjsonschema
    import jsonschema

    from shequyun.collection import fields
    from shequyun.collection.schema_check import check_schema
    from shequyun.collection.validator import compile_validator

    plan = QUICK if quick else FULL
    schema, document = form()
    bad = invalid(document)

    began = time.perf_counter()
    assert check_schema(schema) == []
    checked = time.perf_counter() - began
    began = time.perf_counter()
    ours = compile_validator(schema)
    compiled = time.perf_counter() - began
    reference = jsonschema.Draft202012Validator(schema, format_checker=fields.format_checker())
    formats = {name: _predicate(check) for name, check in fields.FORMATS.items()}
    fast = fastjsonschema.compile(schema, formats=formats)
    plain_schema = _without(schema, {"format", "pattern"})
    plain, plain_fast = compile_validator(plain_schema), fastjsonschema.compile(plain_schema)

    assert ours.errors(document) == [] and reference.is_valid(document)
    fast(document)
    our_errors, their_errors = ours.errors(bad), list(reference.iter_errors(bad))
    assert {e.pointer for e in our_errors} == _places(their_errors), "not the same places"

    rates: dict[str, list[float]] = {
        k: []
        for k in ("ours", "fast", "jsonschema", "ours-bad", "jsonschema-bad", "plain", "plain-fast")
    }
    for _ in range(plan.rounds):
        rates["ours"].append(_rate(lambda: ours.errors(document), plan.valid))
        rates["fast"].append(_rate(lambda: fast(document), plan.valid))
        rates["jsonschema"].append(
            _rate(lambda: reference.is_valid(document), plan.valid // 10 or 1)
        )
        rates["plain"].append(_rate(lambda: plain.errors(document), plan.valid))
        rates["plain-fast"].append(_rate(lambda: plain_fast(document), plan.valid))
        rates["ours-bad"].append(_rate(lambda: ours.errors(bad), plan.invalid))
        rates["jsonschema-bad"].append(
            _rate(lambda: list(reference.iter_errors(bad)), plan.invalid // 10 or 1)
        )

    command = reproduce("validator", quick=quick)
    n = plan.rounds
    example = next(e for e in our_errors if "[" in e.path)
    columns = len(schema["properties"]["members"]["items"]["properties"])
    fields_note = (
        f"{TOP_LEVEL} top-level fields + a {columns}-column table x {ROWS} rows; "
        f"check_schema {checked * 1000:.0f} ms, compile_validator {compiled * 1000:.0f} ms "
        "(check included, cached after the first)"
    )
    ours_figure = _figure("ours .errors()", rates["ours"])
    return [
        Result(
            name="validator",
            title=f"valid 250-field document, vs fastjsonschema, median of {plan.rounds} rounds",
            baseline=_figure("fastjsonschema", rates["fast"]),
            subject=ours_figure,
            command=command,
            notes=(
                fields_note,
                "ours returns every error with Chinese path and message; fastjsonschema stops at "
                "the first (an exception)",
            ),
        ),
        Result(
            name="validator-plain",
            title=f"the same form without format or pattern, vs fastjsonschema, median of {n}",
            baseline=_figure("fastjsonschema", rates["plain-fast"]),
            subject=_figure("ours .errors()", rates["plain"]),
            command=command,
            notes=(
                "the format checks (ID numbers above all) cost both validators the same; without "
                "them the figures compare the generated code alone",
            ),
        ),
        Result(
            name="validator-jsonschema",
            title=f"valid 250-field document, vs cached jsonschema, median of {plan.rounds} rounds",
            baseline=_figure("jsonschema", rates["jsonschema"]),
            subject=ours_figure,
            command=command,
            notes=("jsonschema: Draft202012Validator built once, is_valid() per document",),
        ),
        Result(
            name="validator-invalid",
            title=f"all {len(our_errors)} errors of an invalid document, median of {plan.rounds}",
            baseline=_figure("jsonschema iter_errors", rates["jsonschema-bad"]),
            subject=_figure("ours .errors()", rates["ours-bad"]),
            command=command,
            notes=(
                f"both find the same {len(our_errors)} failing places; ours e.g. "
                f"{example.path}：{example.message}",
            ),
        ),
    ]


def _without(node: Any, keywords: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, keywords) for k, v in node.items() if k not in keywords}
    return [_without(v, keywords) for v in node] if isinstance(node, list) else node


def _places(errors: list[Any]) -> set[str]:
    """jsonschema's failing places as JSON pointers, a missing or extra field at its own place."""
    found = set()
    for error in errors:
        base = "".join(f"/{part}" for part in error.absolute_path)
        if error.validator == "required":
            found |= {f"{base}/{n}" for n in error.validator_value if n not in error.instance}
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            found |= {f"{base}/{key}" for key in error.instance if key not in known}
        else:
            found.add(base)
    return found


def _predicate(check: Callable[[str], str | None]) -> Callable[[object], bool]:
    return lambda value: not isinstance(value, str) or check(value) is None


def _rate(call: Callable[[], object], times: int) -> float:
    began = time.perf_counter()
    for _ in range(times):
        call()
    return times / (time.perf_counter() - began)


def _figure(label: str, rates: list[float]) -> Figure:
    return Figure(label, median(rates), "validations/s", spread(rates))
