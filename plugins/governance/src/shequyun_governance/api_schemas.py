"""The OpenAPI description of the governance API: field logs, knowledge, categories, picks."""

from __future__ import annotations

from shequyun_sdk.openapi import (
    BOOLEAN,
    DATE,
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

from . import categories, fieldlog, knowledge

_REF = obj({"id": INTEGER, "name": STRING})
_PHOTOS = array(STRING, description="先上传（POST /api/v1/attachments）得到的附件编号")

CASE = obj(
    {"id": INTEGER, "status": STRING, "steps": array(STRING)},
    required=["id", "status"],
    description="案件（含 status、punctuality、due_on、history…）",
)
STEP = obj(
    {
        "note": {**STRING, "maxLength": 2000},
        "photos": _PHOTOS,
        "unit_code": UNIT_CODE,
        "days": {**INTEGER, "minimum": 1, "maximum": 30},
        "passed": BOOLEAN,
        "satisfaction": STRING,
        "version": INTEGER,
    },
    closed=True,
)
CATEGORY = obj({"id": INTEGER, "kind": STRING, "code": STRING, "name": STRING, "due_days": INTEGER})
CATEGORIES = obj({"items": array(CATEGORY)}, required=["items"])
CATEGORY_KIND = query_param("kind", {"enum": list(categories.KINDS), "default": "case"}, "类别表")
NEW_CATEGORY = obj(
    {
        "kind": {"enum": list(categories.KINDS)},
        "code": STRING,
        "name": {**STRING, "maxLength": 40},
        "due_days": {**INTEGER, "minimum": 1, "maximum": 60},
    },
    required=["kind", "name"],
    closed=True,
)
PICK_PARAMS = [
    query_param("kind", {"enum": ["resident", "household", "building"]}, "挑选什么"),
    query_param("q", STRING, "姓名、户号或楼栋的一部分"),
    query_param("unit_code", UNIT_CODE, "在该单位内挑选"),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 50, "default": 20}, "条数"),
]
PICKS = obj({"items": array(obj({"key": STRING, "label": STRING}))}, required=["items"])

LOG = obj(
    {
        "id": INTEGER,
        "unit": _REF,
        "kind": STRING,
        "kind_label": STRING,
        "category": nullable(any_object()),
        "subject": nullable(obj({"key": STRING, "label": STRING})),
        "body": STRING,
        "follow_up": BOOLEAN,
        "photos": array(obj({"id": STRING, "url": STRING})),
        "occurred_on": DATE,
        "author": STRING,
        "case_id": nullable(INTEGER),
        "created_at": DATETIME,
    },
    required=["id", "kind", "body"],
)
LOGS = obj({"items": array(LOG)}, required=["items"])
LOG_PARAMS = [
    query_param("unit_code", UNIT_CODE, "只看该单位及其下级"),
    query_param("follow_up", {"enum": ["1", "0"]}, "1：只看需跟进的"),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 200, "default": 50}, "条数"),
    query_param("offset", {**INTEGER, "minimum": 0, "default": 0}, "跳过条数"),
]
NEW_LOG = obj(
    {
        "kind": {"enum": list(fieldlog.KINDS), "default": "visit"},
        "category": STRING,
        "body": {**STRING, "maxLength": 4000},
        "subject": {**STRING, "description": "居民、家庭户或楼栋（picks 的 key）"},
        "follow_up": BOOLEAN,
        "occurred_on": DATE,
        "photos": _PHOTOS,
    },
    closed=True,
)
LOG_TO_CASE = obj(
    {
        "title": {**STRING, "maxLength": 120},
        "description": {**STRING, "maxLength": 4000},
        "category": STRING,
        "unit_code": UNIT_CODE,
        "priority": STRING,
        "due_days": {**INTEGER, "minimum": 1, "maximum": 60},
    },
    closed=True,
)
COVERAGE_PARAMS = [
    query_param("months", {**INTEGER, "minimum": 1, "maximum": 24}, "统计最近几个月"),
    query_param("unit_code", UNIT_CODE, "只看该单位及其下级"),
]
COVERAGE = any_object("走访覆盖：户数、已走访户数、各居委的覆盖率")

ARTICLE = obj(
    {
        "id": INTEGER,
        "kind": STRING,
        "kind_label": STRING,
        "title": STRING,
        "unit": any_object(),
        "categories": array(any_object()),
        "version": INTEGER,
        "author": nullable(STRING),
        "updated_at": DATETIME,
        "body": STRING,
        "attachments": array(any_object()),
    },
    required=["id", "kind", "title", "version"],
)
ARTICLES = obj({"items": array(ARTICLE)}, required=["items"])
ARTICLE_PARAMS = [
    query_param("kind", {"enum": list(knowledge.KINDS)}, "类型"),
    query_param("category", STRING, "类别"),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 200, "default": 50}, "条数"),
]
NEW_ARTICLE = obj(
    {
        "kind": {"enum": list(knowledge.KINDS)},
        "title": {**STRING, "maxLength": 200},
        "body": {**STRING, "maxLength": 50000},
        "categories": array(STRING),
        "attachments": _PHOTOS,
    },
    required=["kind", "title", "body"],
    closed=True,
)
REVISED_ARTICLE = obj(
    {**NEW_ARTICLE["properties"], "version": INTEGER, "note": {**STRING, "maxLength": 200}},
    closed=True,
)
WITHDRAWN = obj({"withdrawn": BOOLEAN}, required=["withdrawn"])
SEARCH_PARAMS = [
    query_param("q", {**STRING, "minLength": 1, "maxLength": 100}, "搜索内容", required=True),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 50, "default": 20}, "条数"),
]
SEARCH = obj(
    {
        "query": STRING,
        "words": array(STRING),
        "partial": BOOLEAN,
        "items": array(
            obj({"id": INTEGER, "title": STRING, "title_html": STRING, "snippet_html": STRING})
        ),
    },
    required=["items"],
)
DOWNLOAD = query_param("download", {"enum": ["1"]}, "1：作为附件下载")
FILE = {
    "200": {
        "description": "文件内容",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
OPEN311 = obj(
    {
        "service_request_id": STRING,
        "case_id": INTEGER,
        "case_number": STRING,
        "status": STRING,
        "status_detail": STRING,
        "status_label": STRING,
        "status_notes": nullable(STRING),
        "service_name": STRING,
        "description": STRING,
        "agency_responsible": nullable(STRING),
        "address": nullable(STRING),
        "lat": nullable(NUMBER),
        "long": nullable(NUMBER),
        "requested_datetime": DATETIME,
        "updated_datetime": DATETIME,
    },
    required=["service_request_id", "status"],
    description="Open311 GeoReport v2 字段的案件状态",
)
CASE_PAGE = obj(
    {"items": array(CASE), "total": INTEGER},
    required=["items"],
)
SERVICES = array(
    obj(
        {
            "service_code": STRING,
            "service_name": STRING,
            "description": STRING,
            "metadata": BOOLEAN,
            "type": STRING,
            "due_working_days": INTEGER,
        }
    )
)
