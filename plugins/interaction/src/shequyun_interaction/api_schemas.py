"""The OpenAPI description of the interaction API: what each route takes and answers."""

from __future__ import annotations

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
    query_param,
)

from .affairs import CATEGORIES as DISCLOSURE_CATEGORIES
from .deliberation import RULES, SCOPES, STANCES
from .neighbours import DECISIONS, TARGETS
from .servicedesk import CATEGORIES as REQUEST_CATEGORIES
from .servicedesk import STATUSES

_UNIT = obj({"code": UNIT_CODE, "name": STRING, "level": STRING})
_TEXT = {"type": "string", "maxLength": 20000}
_ATTACHMENTS = array(STRING, description="先上传（POST /api/v1/attachments）得到的附件编号")

ME = obj(
    {
        "account": nullable(
            obj(
                {
                    "id": INTEGER,
                    "phone": STRING,
                    "verified": BOOLEAN,
                    "verified_via": nullable(STRING),
                    "phone_confirmed": BOOLEAN,
                    "must_confirm_phone": BOOLEAN,
                }
            )
        ),
        "resident": nullable(
            obj(
                {
                    "id": INTEGER,
                    "name": STRING,
                    "committee": obj({"code": UNIT_CODE, "name": STRING}),
                    "address": nullable(STRING),
                    "building": nullable(STRING),
                    "household_number": nullable(STRING),
                }
            )
        ),
        "assisted_by": nullable(STRING),
        "enabled": BOOLEAN,
        "phone_code": any_object("短信验证码发往何处、多久失效"),
    },
    required=["account", "resident", "enabled"],
)
CREDENTIALS = obj(
    {"phone": STRING, "password": {**STRING, "minLength": 1, "maxLength": 128}},
    required=["phone", "password"],
    closed=True,
)
TOKEN = obj({"token": STRING, "header": {"const": "X-Resident-Token"}}, required=["token"])
CODE = obj({"code": STRING}, required=["code"], closed=True)
SENT = obj({"sent_to": STRING, "expires_in": INTEGER, "resend_after": INTEGER})
VERIFY = {
    "anyOf": [
        obj({"name": STRING, "id_number": STRING}, required=["name", "id_number"], closed=True),
        obj({"code": STRING, "name": STRING}, required=["code", "name"], closed=True),
    ]
}
_NEW_PASSWORD = {**STRING, "minLength": 1, "maxLength": 128}
#: 忘记密码 with a committee's 核验码: the phone signed in with, the resident's name as registered.
PASSWORD_RESET_CODE = obj(
    {
        "phone": STRING,
        "name": STRING,
        "code": STRING,
        "password": _NEW_PASSWORD,
        "password2": _NEW_PASSWORD,
    },
    required=["phone", "name", "code", "password", "password2"],
    closed=True,
)
PHONE = obj({"phone": STRING}, required=["phone"], closed=True)
#: 忘记密码 with the SMS code sent to the phone.
PASSWORD_RESET_SMS = obj(
    {"phone": STRING, "code": STRING, "password": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
    required=["phone", "code", "password", "password2"],
    closed=True,
)
UNIT_PARAM = query_param("unit", UNIT_CODE, "居委编码（缺省为自己所在的居委）")
ANNOUNCEMENTS_UNIT_PARAM = query_param(
    "unit",
    UNIT_CODE,
    "单位编码：列出该单位及其上级发布的公告（缺省为自己所在的居委；匿名访问和未核验的账号缺省为全市，"
    "只列全市发布的公告）",
)

_FILES = array(obj({"id": STRING, "name": STRING, "url": STRING}))
ANNOUNCEMENT = obj(
    {
        "id": INTEGER,
        "unit": _UNIT,
        "title": STRING,
        "body": STRING,
        "pinned": BOOLEAN,
        "published_at": DATETIME,
        "expires_at": nullable(DATETIME),
        "withdrawn": BOOLEAN,
        "reads": nullable(INTEGER),
        "attachments": _FILES,
    },
    required=["id", "title"],
)
ANNOUNCEMENTS = obj({"items": array(ANNOUNCEMENT)}, required=["items"])
NEW_ANNOUNCEMENT = obj(
    {
        "title": {**STRING, "minLength": 2, "maxLength": 120},
        "body": {**STRING, "maxLength": 10000},
        "expires_on": DATE,
        "attachments": _ATTACHMENTS,
    },
    required=["title", "body"],
    closed=True,
)
DISCLOSURE = obj(
    {
        "id": INTEGER,
        "unit": _UNIT,
        "category": STRING,
        "category_label": STRING,
        "title": STRING,
        "body": STRING,
        "version": INTEGER,
        "updated_at": DATETIME,
        "history": array(any_object("一个历史版本")),
        "attachments": _FILES,
    },
    required=["id", "title", "version"],
)
DISCLOSURES = obj({"items": array(DISCLOSURE)}, required=["items"])
CATEGORY_PARAM = query_param("category", {"enum": list(DISCLOSURE_CATEGORIES)}, "公开类别")
NEW_DISCLOSURE = obj(
    {
        "category": {"enum": list(DISCLOSURE_CATEGORIES)},
        "title": {**STRING, "minLength": 2, "maxLength": 120},
        "body": {**STRING, "maxLength": 20000},
        "attachments": _ATTACHMENTS,
    },
    required=["category", "title", "body"],
    closed=True,
)
REVISION = obj(
    {
        **NEW_DISCLOSURE["properties"],
        "note": {**STRING, "minLength": 2, "maxLength": 200},
        "version": INTEGER,
    },
    required=["note"],
    closed=True,
)

SERVICE_REQUEST = obj(
    {
        "id": INTEGER,
        "category": STRING,
        "category_label": STRING,
        "title": STRING,
        "body": STRING,
        "status": STRING,
        "status_label": STRING,
        "committee": any_object(),
        "due_on": nullable(DATE),
        "overdue": BOOLEAN,
        "assisted_by": nullable(STRING),
        "created_at": DATETIME,
        "case": nullable(any_object("上报后的案件：编号与状态")),
        "replies": array(any_object()),
        "photos": _FILES,
    },
    required=["id", "category", "title", "status"],
)
SERVICE_REQUESTS = obj({"items": array(SERVICE_REQUEST)}, required=["items"])
NEW_REQUEST = obj(
    {
        "category": {"enum": list(REQUEST_CATEGORIES)},
        "title": {**STRING, "minLength": 2, "maxLength": 80},
        "body": {**STRING, "maxLength": 2000},
        "attachments": _ATTACHMENTS,
    },
    required=["category", "title", "body"],
    closed=True,
)
RESIDENT_REPLY = obj({"body": {**STRING, "maxLength": 1000}}, required=["body"], closed=True)
CADRE_REPLY = obj(
    {"body": {**STRING, "maxLength": 2000}, "status": {"enum": list(STATUSES)}}, closed=True
)
ESCALATION = obj({"note": {**STRING, "maxLength": 1000}}, closed=True)
QUEUE_STATUS = query_param(
    "status", {"enum": ["open", "all", *STATUSES], "default": "open"}, "办理状态"
)
PHOTOS = obj(
    {"photos": array({**STRING, "format": "binary"})},
    required=["photos"],
)

TOPIC = obj(
    {
        "id": INTEGER,
        "unit": _UNIT,
        "title": STRING,
        "body": STRING,
        "options": array(STRING),
        "rule": STRING,
        "rule_label": STRING,
        "scope_kind": STRING,
        "scope_values": array({}),
        "threshold": nullable(STRING),
        "secret": BOOLEAN,
        "allow_abstain": BOOLEAN,
        "opens_at": DATETIME,
        "closes_at": DATETIME,
        "status": STRING,
        "result": nullable(any_object()),
        "ballots_cast": INTEGER,
        "standing": obj(
            {
                "ballots": INTEGER,
                "abstained": INTEGER,
                "electorate": INTEGER,
                "turnout": {"type": "number"},
                "needed": nullable(INTEGER),
            }
        ),
        "my_ballot": nullable(obj({"option": INTEGER})),
        "can_vote": BOOLEAN,
        "why_not": nullable(STRING),
        "stances": any_object(),
        "comments": array(any_object()),
    },
    required=["id", "title", "options", "status"],
)
TOPICS = obj({"items": array(TOPIC)}, required=["items"])
NEW_TOPIC = obj(
    {
        "title": {**STRING, "minLength": 2, "maxLength": 120},
        "body": {**STRING, "maxLength": 5000},
        "options": array({**STRING, "maxLength": 40}, minItems=2),
        "rule": {"enum": list(RULES)},
        "scope_kind": {"enum": list(SCOPES)},
        "buildings": array(STRING),
        "households": array(STRING),
        "threshold": {**STRING, "pattern": "^[0-9]+/[0-9]+$"},
        "closes_on": DATE,
        "closes_at": DATETIME,
        "allow_abstain": BOOLEAN,
    },
    required=["title", "body", "options", "rule", "scope_kind", "closes_on"],
    closed=True,
)
BALLOT = obj(
    {"option": {"anyOf": [{**INTEGER, "minimum": 0}, {"const": "abstain"}]}},
    required=["option"],
    closed=True,
)
CAST = obj({"topic_id": INTEGER, "option": INTEGER, "changes": INTEGER})
TOPIC_COMMENT = obj(
    {"stance": {"enum": list(STANCES)}, "body": {**STRING, "minLength": 2, "maxLength": 1000}},
    required=["stance", "body"],
    closed=True,
)
CREATED = obj({"ok": BOOLEAN, "id": INTEGER})
RECOUNT = any_object("重新计票的结果与存档的结果比对")
BALLOTS = obj({"items": array(any_object("一张选票（不记名议题不含投票人）"))}, required=["items"])

POST = obj(
    {
        "id": INTEGER,
        "author": STRING,
        "body": STRING,
        "created_at": DATETIME,
        "comments": array(obj({"id": INTEGER, "author": STRING, "body": STRING})),
    },
    required=["id", "body"],
)
POSTS = obj({"items": array(POST)}, required=["items"])
NEW_POST = obj({"body": {**STRING, "minLength": 2, "maxLength": 1000}}, required=["body"])
POST_COMMENT = obj({"body": {**STRING, "minLength": 1, "maxLength": 500}}, required=["body"])
REPORT = obj(
    {
        "target_type": {"enum": list(TARGETS)},
        "target_id": INTEGER,
        "reason": {**STRING, "maxLength": 200},
    },
    required=["target_type", "target_id"],
    closed=True,
)
HIDDEN = obj({"hidden": BOOLEAN}, required=["hidden"])
MODERATION = obj(
    {
        "items": array(
            obj(
                {
                    "target_type": STRING,
                    "target_id": INTEGER,
                    "author": STRING,
                    "body": STRING,
                    "status": STRING,
                    "reports": INTEGER,
                    "reasons": array(STRING),
                    "topic": nullable(obj({"id": INTEGER, "title": STRING})),
                }
            )
        )
    },
    required=["items"],
)
DECISION = obj(
    {"decision": {"enum": list(DECISIONS)}, "note": {**STRING, "maxLength": 200}},
    required=["decision"],
    closed=True,
)
DECIDED = obj({"id": INTEGER, "decision": STRING})
ISSUE_CODE = obj({"resident_id": {**INTEGER, "minimum": 1}}, required=["resident_id"])
ISSUED = obj({"code": STRING, "resident_id": INTEGER, "expires_at": DATETIME})
NOTIFICATIONS = obj(
    {
        "items": array(
            obj(
                {
                    "id": INTEGER,
                    "kind": STRING,
                    "title": STRING,
                    "link": nullable(STRING),
                    "read": BOOLEAN,
                    "created_at": DATETIME,
                }
            )
        )
    },
    required=["items"],
)
DIGESTS = any_object("发送的摘要数")
NO_CONTENT = {"204": {"description": "完成"}}
NEW_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": NEW_REQUEST},
        "multipart/form-data": {
            "schema": obj(
                {**NEW_REQUEST["properties"], "photos": array({**STRING, "format": "binary"})},
                required=["category", "title", "body"],
            )
        },
    },
}
PHOTOS_BODY = {"required": True, "content": {"multipart/form-data": {"schema": PHOTOS}}}
DOWNLOAD = query_param("download", {"enum": ["1"]}, "1：作为附件下载")
FILE = {
    "200": {
        "description": "文件内容",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
