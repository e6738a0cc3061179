"""The OpenAPI description of the identity API's answers: users, grants, tokens, the actor."""

from __future__ import annotations

from shequyun_sdk.openapi import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    STRING,
    UNIT_CODE,
    any_object,
    array,
    nullable,
    obj,
)

UNIT = obj({"code": UNIT_CODE, "name": STRING, "level": STRING}, required=["code", "name"])
GRANT = obj(
    {
        "id": INTEGER,
        "user_id": INTEGER,
        "role": STRING,
        "role_title": STRING,
        "unit": UNIT,
        "granted_by": nullable(INTEGER),
        "granted_at": nullable(DATETIME),
        "revoked_at": nullable(DATETIME),
    },
    required=["id", "user_id", "role", "unit"],
)
GRANTS = obj({"items": array(GRANT)}, required=["items"])
REVOKED_GRANT = obj(
    {**GRANT["properties"], "sessions_ended": INTEGER, "tokens_revoked": INTEGER},
    required=["id", "sessions_ended", "tokens_revoked"],
)
USER = obj(
    {
        "id": INTEGER,
        "username": STRING,
        "display_name": STRING,
        "phone": nullable(STRING),
        "home_unit": UNIT,
        "is_active": BOOLEAN,
        "locked": BOOLEAN,
        "locked_until": nullable(DATETIME),
        "must_change_password": BOOLEAN,
        "awaiting_confirmation": {
            **BOOLEAN,
            "description": "密码由无个人信息权限的管理员设置，待另一位有权人员确认持有人",
        },
        "last_login_at": nullable(DATETIME),
        "created_at": nullable(DATETIME),
        "version": INTEGER,
        "grants": array(GRANT),
        "password": {**STRING, "description": "生成的初始密码，仅此一次返回"},
    },
    required=["id", "username", "home_unit", "version", "grants"],
)
AWAITING = obj(
    {
        "id": INTEGER,
        "username": STRING,
        "display_name": STRING,
        "units": array(UNIT),
        "password_set_by": STRING,
    },
    required=["id", "username", "display_name", "units", "password_set_by"],
)
AWAITING_LIST = obj({"items": array(AWAITING)}, required=["items"])
CONFIRMED = obj(
    {"id": INTEGER, "username": STRING, "awaiting_confirmation": BOOLEAN},
    required=["id", "username", "awaiting_confirmation"],
)
USER_PAGE = obj({"items": array(USER), "next_cursor": nullable(STRING)}, required=["items"])
TOKEN = obj(
    {
        "id": INTEGER,
        "name": STRING,
        "prefix": STRING,
        "status": {"enum": ["active", "expired", "revoked"]},
        "grant": GRANT,
        "user": obj({"id": INTEGER, "username": STRING, "display_name": STRING}),
        "created_by": nullable(INTEGER),
        "created_at": nullable(DATETIME),
        "expires_at": nullable(DATETIME),
        "revoked_at": nullable(DATETIME),
        "last_used_at": nullable(DATETIME),
        "secret": {**STRING, "description": "令牌本身，仅在签发时返回一次"},
    },
    required=["id", "name", "prefix", "status", "grant"],
)
TOKEN_PAGE = obj({"items": array(TOKEN), "next_cursor": nullable(STRING)}, required=["items"])
IMPORT_REPORT = obj(
    {"dry_run": BOOLEAN, "errors": array(any_object())},
    required=["dry_run"],
    description="导入报告：将创建或已创建的用户与授权、每处错误",
)
ME = obj(
    {
        "user": obj({"id": nullable(INTEGER), "username": STRING, "display_name": STRING}),
        "grant": nullable(
            obj({"id": INTEGER, "role": STRING, "unit": nullable(UNIT)}, required=["id", "role"])
        ),
        "permissions": array(STRING),
        "via": STRING,
        "csrf_token": nullable(STRING),
    },
    required=["user", "grant", "permissions", "via"],
)
