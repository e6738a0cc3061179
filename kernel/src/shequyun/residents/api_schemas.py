"""The OpenAPI description of ``/api/v1/residents``: query parameters, bodies and answers."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.openapi import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    STRING,
    UNIT_CODE,
    any_object,
    array,
    nullable,
    obj,
    page_of,
    query_param,
)

from .dates import DATE_EXAMPLES
from .models import GENDERS, REGISTRATIONS

__all__ = [
    "BATCH_RESULT",
    "BATCH_TAGS",
    "FILTERS",
    "HISTORY",
    "MOVED_OUT",
    "REMOVAL",
    "RESIDENT",
    "RESIDENT_CHANGES",
    "RESIDENT_FIELDS",
    "RESIDENT_PAGE",
    "REVEAL",
    "REVEALED",
    "TRANSFER",
    "TRANSFERRED",
    "VOCABULARY",
]

_AGE = {**INTEGER, "minimum": 0, "maximum": 150}
#: A registration type, by its code or its Chinese name (户籍 or huji), as the code takes it.
_REGISTRATION = {"enum": [*REGISTRATIONS, *REGISTRATIONS.values()]}
FILTERS: list[dict[str, Any]] = [
    query_param("q", STRING, "姓名包含"),
    {**query_param("tag", array(STRING), "标签（可多个）"), "explode": True},
    query_param("age_min", _AGE, "最小年龄"),
    query_param("age_max", _AGE, "最大年龄"),
    query_param("compound", STRING, "小区"),
    query_param("building", STRING, "楼栋"),
    query_param("registration", _REGISTRATION, "户籍类型"),
    query_param("unit", UNIT_CODE, "单位编码：居委，或街镇、区（含其下所有居委）"),
    query_param("id_number", STRING, "身份证号（精确）"),
    query_param("phone", STRING, "电话（精确）"),
    query_param("status", {"enum": ["active", "removed", "any"], "default": "active"}, "状态"),
    {**query_param("id", array(INTEGER), "只要这些居民（最多 200 个编号）"), "explode": True},
]
_TAG_NAMES = {**array(STRING), "maxItems": 10}
#: ``POST /residents/batch/tags``: which residents, which tags to add and to take off.
BATCH_TAGS = obj(
    {
        "resident_ids": {**array(INTEGER), "minItems": 1, "maxItems": 200},
        "add": _TAG_NAMES,
        "remove": _TAG_NAMES,
    },
    required=["resident_ids"],
    closed=True,
)
BATCH_RESULT = obj(
    {"changed": array(INTEGER), "unchanged": array(INTEGER)}, required=["changed", "unchanged"]
)

_ADDRESS = obj({"compound": STRING, "building": STRING, "entrance": STRING, "room": STRING})
#: A date a client writes: the forms :func:`.dates.read_date` takes (answers give ISO dates).
_DATE_IN = {**STRING, "description": f"日期，如 {DATE_EXAMPLES}"}
#: What a client may write (``POST`` all required ones, ``PATCH`` any of them).
RESIDENT_FIELDS: dict[str, Any] = {
    "name": {**STRING, "maxLength": 50},
    "gender": {**STRING, "description": "、".join(f"{k}（{v}）" for k, v in GENDERS.items())},
    "birth_date": _DATE_IN,
    "id_number": {**STRING, "maxLength": 30, "description": "18 位身份证号"},
    "phone": STRING,
    "registration": _REGISTRATION,
    "unit_code": UNIT_CODE,
    "address": _ADDRESS,
    "household_number": STRING,
    "tags": array(STRING, maxItems=30),
    "attributes": any_object("插件登记的扩展属性，键为 插件名.属性名"),
}
RESIDENT_CHANGES = obj(
    {**RESIDENT_FIELDS, "version": {**INTEGER, "description": "读到的版本号"}},
    required=["version"],
    closed=True,
)
RESIDENT = obj(
    {
        "id": INTEGER,
        "name": STRING,
        "gender": STRING,
        "gender_label": STRING,
        "birth_date": DATE,
        "age": INTEGER,
        "id_number": {**STRING, "description": "已遮蔽"},
        "phone": nullable(STRING),
        "registration": STRING,
        "registration_label": STRING,
        "unit": obj({"code": UNIT_CODE, "name": STRING}),
        "address": nullable(obj({**_ADDRESS["properties"], "label": STRING})),
        "household": nullable(obj({"id": INTEGER, "number": STRING})),
        "tags": array(STRING),
        "attributes": any_object("敏感属性已遮蔽"),
        "status": STRING,
        "version": INTEGER,
        "updated_at": DATETIME,
    },
    required=["id", "name", "unit", "version"],
)
RESIDENT_PAGE = page_of(RESIDENT)
REMOVAL = obj(
    {"version": INTEGER, "reason": {**STRING, "maxLength": 200}},
    required=["version", "reason"],
    closed=True,
)
HISTORY = obj(
    {
        "changes": array(
            obj(
                {
                    "version": INTEGER,
                    "at": DATETIME,
                    "actor": nullable(STRING),
                    "grant_id": nullable(INTEGER),
                    "source": STRING,
                    "field": STRING,
                    "old": {},
                    "new": {},
                }
            )
        )
    },
    required=["changes"],
)
TRANSFER = obj(
    {
        "to_unit_code": UNIT_CODE,
        "effective_on": _DATE_IN,
        "reason": STRING,
        "version": INTEGER,
    },
    required=["to_unit_code", "effective_on", "version"],
    closed=True,
)
TRANSFERRED = obj({"id": INTEGER, "unit_code": UNIT_CODE, "version": INTEGER})
REVEAL = obj(
    {"fields": array({"enum": ["id_number", "phone"]}), "reason": STRING},
    required=["fields", "reason"],
    closed=True,
)
REVEALED = obj({"id_number": STRING, "phone": nullable(STRING)}, description="所请求字段的完整值")
MOVED_OUT = obj(
    {
        "items": array(
            obj(
                {
                    "resident_id": INTEGER,
                    "name": STRING,
                    "from": STRING,
                    "to": STRING,
                    "effective_on": DATE,
                    "reason": nullable(STRING),
                }
            )
        ),
        "next_cursor": nullable(STRING),
    },
    required=["items", "next_cursor"],
)
VOCABULARY = obj(
    {
        "tags": array(obj({"name": STRING, "description": STRING})),
        "attributes": array(
            obj({"key": STRING, "title": STRING, "schema": any_object(), "sensitive": BOOLEAN})
        ),
    },
    required=["tags", "attributes"],
)
