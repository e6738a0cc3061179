"""The OpenAPI description of the advisors API: the policy pool, outreach and the desk."""

from __future__ import annotations

from shequyun_sdk.openapi import (
    DATE,
    DATETIME,
    INTEGER,
    STRING,
    UNIT_CODE,
    any_object,
    array,
    nullable,
    obj,
    query_param,
)

from . import desk
from .core import OUTCOMES, STATUSES

CREATED = obj({"id": INTEGER}, required=["id"])
ITEMS = obj({"items": array(any_object())}, required=["items"])
DAY = query_param("day", DATE, "按哪一天的政策条文（缺省为今天）")
POLICIES = obj({"items": array(any_object("一项政策的摘要"))}, required=["items"])
POLICY = any_object("一项政策：条件、依据、版本")
NEW_POLICY = obj(
    {"source": {**STRING, "description": "政策的 YAML 源文"}, "note": STRING},
    required=["source"],
    closed=True,
)
SAVED_POLICY = obj({"id": STRING, "version": INTEGER}, required=["id", "version"])
EVALUATE = obj(
    {
        "person": any_object("居民：gender、birth_date、registration、tags、attributes…"),
        "household": any_object(),
        "members": array(any_object()),
        "units": array(STRING),
        "recorded": array(STRING),
        "day": DATE,
        "policy": STRING,
    },
    required=["person"],
)
EVALUATED = obj({"day": DATE, "results": array(any_object())}, required=["day", "results"])
AREA = obj({"unit": UNIT_CODE}, closed=True)
SYNCED = obj(
    {
        "unit": UNIT_CODE,
        "found": {
            "type": "object",
            "additionalProperties": INTEGER,
            "description": "每项政策新发现的对象数（政策编号 → 人数）",
        },
    },
    required=["unit", "found"],
)
UNIT = query_param("unit", UNIT_CODE, "单位编码（缺省为自己的单位）")
POLICY_PARAM = query_param("policy", STRING, "只看该政策")
CANDIDATE_PARAMS = [
    UNIT,
    POLICY_PARAM,
    query_param("status", {"enum": ["open", "all", *STATUSES]}, "跟进状态"),
    query_param("after", {**INTEGER, "minimum": 0}, "上一页的 next"),
    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 200, "default": 50}, "条数"),
]
CANDIDATES = obj({"items": array(any_object()), "next": nullable(INTEGER)}, required=["items"])
CSV = {
    "200": {
        "description": "CSV 文件",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
CASE = any_object("一位可能符合政策的居民的跟进记录，含 history")
OUTCOME = obj(
    {"outcome": {"enum": list(OUTCOMES)}, "note": STRING, "version": INTEGER},
    required=["outcome"],
    closed=True,
)
RECORDED = obj({"id": INTEGER, "status": STRING, "version": INTEGER})
ASSIGN = obj({"assignee": STRING}, required=["assignee"], closed=True)
ASSIGNED = obj({"id": INTEGER, "assignee": nullable(STRING), "version": INTEGER})
FUNNEL = any_object("从数据找到、联系、申请到获批的各步人数")
NOTIFY = obj({"unit": UNIT_CODE, "policy": STRING}, required=["policy"], closed=True)
NOTIFIED = any_object("已通知的居民数")

POINT = obj(
    {
        "name": STRING,
        "kind": {"enum": list(desk.POINT_KINDS)},
        "unit": UNIT_CODE,
        "address": STRING,
        "phone": STRING,
        "covers": array(UNIT_CODE),
    },
    required=["name", "kind"],
)
POINTS = obj(
    {
        "items": array(
            obj(
                {
                    "id": INTEGER,
                    "name": STRING,
                    "kind": STRING,
                    "address": nullable(STRING),
                    "phone": nullable(STRING),
                    "advisors": array(obj({"id": INTEGER, "name": STRING, "kind": STRING})),
                }
            )
        )
    },
    required=["items"],
)
ADVISOR = obj(
    {
        "name": STRING,
        "kind": {"enum": list(desk.ADVISOR_KINDS)},
        "point_id": INTEGER,
        "user_id": INTEGER,
        "phone": STRING,
    },
    required=["name", "kind", "point_id"],
)
SERVICE = obj(
    {
        "kind": {"enum": list(desk.KINDS)},
        "channel": {"enum": list(desk.CHANNELS)},
        "summary": STRING,
        "resident_id": INTEGER,
        "policy_id": STRING,
        "resource_id": INTEGER,
        "advisor_id": INTEGER,
        "at": DATETIME,
    },
    required=["kind", "channel", "summary"],
)
MINE = query_param("mine", {"enum": ["1", "0"], "default": "1"}, "0：本范围内所有顾问的记录")
RESOURCE = obj(
    {
        "name": STRING,
        "sector": {"enum": list(desk.SECTORS)},
        "provider": STRING,
        "contact": STRING,
        "services": array(STRING),
        "needs": array(STRING),
        "covers": array(UNIT_CODE),
        "capacity": INTEGER,
        "unit": UNIT_CODE,
    },
    required=["name", "sector"],
)
MONTH_PARAMS = [query_param("month", {**STRING, "pattern": "^[0-9]{4}-[0-9]{2}$"}, "月份"), UNIT]
MONTHLY = any_object("本月服务人次与覆盖")
