"""The OpenAPI description of ``/api/v1/forms``, ``/campaigns`` and ``/tasks``."""

from __future__ import annotations

from typing import Any

from shequyun_sdk.openapi import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    NUMBER,
    STRING,
    UNIT_CODE,
    any_object,
    array,
    nullable,
    obj,
    query_param,
)

_UNIT = obj({"code": UNIT_CODE, "name": STRING})
_SCHEMA = any_object("表单的 JSON Schema（见 docs/collection/）")
_UI = any_object("界面层：字段顺序、分组、说明、显示条件")

VERSION = obj(
    {
        "number": INTEGER,
        "status": {"enum": ["draft", "published"]},
        "published_at": nullable(DATETIME),
        "schema": _SCHEMA,
        "ui": _UI,
        "columns": {
            "type": "object",
            "additionalProperties": STRING,
            "description": "题目 → 导出列名",
        },
    },
    required=["number", "status"],
)
FORM = obj(
    {
        "id": INTEGER,
        "title": STRING,
        "description": STRING,
        "created_at": DATETIME,
        "versions": array(VERSION),
    },
    required=["id", "title", "versions"],
)
FORMS = obj({"items": array(FORM)}, required=["items"])
NEW_FORM = obj(
    {
        "title": {**STRING, "maxLength": 120},
        "description": {**STRING, "maxLength": 5000},
        "schema": _SCHEMA,
        "ui": _UI,
    },
    required=["title", "schema"],
)
DRAFT = obj({"schema": _SCHEMA, "ui": _UI}, required=["schema"])

CAMPAIGN = obj(
    {
        "id": INTEGER,
        "title": STRING,
        "instructions": STRING,
        "form": obj({"id": INTEGER, "title": STRING, "version": INTEGER}),
        "mode": {"enum": ["unit", "roster"]},
        "roster_filter": any_object(),
        "writeback": any_object(),
        "status": STRING,
        "starts_at": nullable(DATETIME),
        "deadline": DATETIME,
        "tasks": INTEGER,
    },
    required=["id", "title", "deadline"],
)
CAMPAIGNS = obj({"items": array(CAMPAIGN)}, required=["items"])
NEW_CAMPAIGN = obj(
    {
        "form_id": INTEGER,
        "version": INTEGER,
        "title": {**STRING, "maxLength": 120},
        "instructions": STRING,
        "targets": array(UNIT_CODE, description="下发到的单位（其下所有居村委各得一项任务）"),
        "deadline": DATETIME,
        "starts_at": nullable(DATETIME),
        "mode": {"enum": ["unit", "roster"], "default": "unit"},
        "roster_filter": obj(
            {
                "tags": array(STRING),
                "age_min": {**INTEGER, "minimum": 0, "maximum": 150},
                "age_max": {**INTEGER, "minimum": 0, "maximum": 150},
            }
        ),
        "writeback": any_object("答案写回居民档案：题目 → 居民字段"),
    },
    required=["form_id", "version", "title", "targets", "deadline"],
)
WITHIN = query_param("within", UNIT_CODE, "只看该单位及其下级")
LEVEL = query_param(
    "level", {"enum": ["district", "street", "committee"], "default": "district"}, "按哪一级汇总"
)
_COUNTS = {
    k: INTEGER
    for k in (
        "expected",
        "not_started",
        "draft",
        "submitted",
        "returned",
        "on_time",
        "late",
        "overdue",
    )
}
PROGRESS = obj(
    {
        "level": STRING,
        "deadline": DATETIME,
        "groups": array(obj({"unit": _UNIT, **_COUNTS, "completion": nullable(NUMBER)})),
        "total": obj({**_COUNTS, "completion": nullable(NUMBER)}),
    },
    required=["level", "groups", "total"],
)
OVERDUE = obj(
    {"items": array(obj({"task_id": INTEGER, "unit": _UNIT, "status": STRING}))},
    required=["items"],
)
REMINDED = obj({"reminded": INTEGER}, required=["reminded"])
_QUESTION = obj(
    {
        "column": STRING,
        "label": STRING,
        "kind": {"enum": ["number", "choice", "text", "file", "table"]},
        "answered": INTEGER,
        "sum": NUMBER,
        "average": nullable(NUMBER),
        "min": nullable(NUMBER),
        "max": nullable(NUMBER),
        "distribution": {
            "type": "object",
            "additionalProperties": INTEGER,
            "description": "选项 → 次数（选择题）",
        },
        "files": INTEGER,
        "samples": array(STRING, description="前几个附件的 id（文件题）"),
    },
    required=["column", "label", "kind", "answered"],
    description="一道题的汇总：数字题有 sum/average/min/max，选择题有 distribution，文件题有 files",
)
RESULTS = obj(
    {
        "level": {"enum": ["district", "street", "committee"]},
        "groups": array(
            obj(
                {
                    "unit": nullable(_UNIT),
                    "submissions": INTEGER,
                    "questions": array(_QUESTION),
                },
                required=["unit", "submissions", "questions"],
            )
        ),
        "total": obj(
            {"submissions": INTEGER, "questions": array(_QUESTION)},
            required=["submissions", "questions"],
        ),
    },
    required=["level", "groups", "total"],
    description="每道题、每个单位的汇总（submitted 的答案）",
)
SUBMISSIONS = obj(
    {
        "items": array(
            obj(
                {
                    "task_id": INTEGER,
                    "unit": _UNIT,
                    "submitted_at": nullable(DATETIME),
                    "on_time": nullable(BOOLEAN),
                    "version": INTEGER,
                    "data": any_object(
                        "答案，键为导出列名；按居民名单填写的为 {rows: [{resident_id, …}]}"
                    ),
                },
                required=["task_id", "unit", "version", "data"],
                description="一份已提交的答案",
            )
        ),
        "next_cursor": nullable(STRING),
    },
    required=["items", "next_cursor"],
)

TASK = obj(
    {
        "id": INTEGER,
        "campaign_id": INTEGER,
        "campaign": {**STRING, "description": "采集活动的标题"},
        "deadline": DATETIME,
        "mode": {"enum": ["unit", "roster"]},
        "unit": _UNIT,
        "status": {"enum": ["not_started", "draft", "submitted", "returned"]},
        "data": nullable(any_object("答案")),
        "version": INTEGER,
        "submitted_at": nullable(DATETIME),
        "on_time": nullable(BOOLEAN),
        "overdue": BOOLEAN,
        "form": VERSION,
        "instructions": STRING,
        "history": array(
            obj(
                {
                    "at": DATETIME,
                    "action": STRING,
                    "actor": nullable(STRING),
                    "comment": nullable(STRING),
                },
                required=["at", "action"],
            )
        ),
        "roster": array(any_object("名单上的一位居民（与 GET /api/v1/residents 的一项相同）")),
    },
    required=["id", "campaign_id", "status", "version"],
)
TASKS = obj({"items": array(TASK)}, required=["items"])
TASK_STATUS = query_param(
    "status", {"enum": ["not_started", "draft", "submitted", "returned"]}, "只列出该状态的任务"
)
ANSWERS = any_object("按表单 JSON Schema 填写的答案")
DRAFT_ANSWERS = obj({"data": ANSWERS, "version": INTEGER}, required=["data", "version"])
SUBMISSION = obj(
    {"data": ANSWERS, "client_key": {**STRING, "description": "重发同一键不会重复提交"}},
    required=["data"],
)
RETURN = obj({"comment": STRING}, required=["comment"])

PAGE: list[dict[str, Any]] = [
    query_param("cursor", {**INTEGER, "minimum": 0}, "上一页的 next_cursor"),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 500, "default": 100}, "条数"),
]
EXPORT_FORMAT = query_param("format", {"enum": ["csv", "xlsx"], "default": "csv"}, "文件格式")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": obj({"file": {**STRING, "format": "binary"}}, required=["file"])
        }
    },
}
WORKBOOK_FILE = {
    "200": {
        "description": "XLSX 工作簿",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}
EXPORT_ROWS = query_param("rows", STRING, "表格题的列名：每个表格行一行（缺省为每份一行）")
