"""The OpenAPI description of ``/api/v1/apps`` and ``/api/v1/feed``."""

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
    query_param,
)

from .manifest import MANIFEST_SCHEMA

APP = obj(
    {
        "id": INTEGER,
        "slug": STRING,
        "name": STRING,
        "client_id": STRING,
        "secret_prefix": nullable(STRING),
        "manifest": any_object("应用清单"),
        "units": array(obj({"code": UNIT_CODE, "name": STRING})),
        "webhook_state": STRING,
        "disabled": BOOLEAN,
        "version": INTEGER,
    },
    required=["id", "slug", "name", "client_id", "units", "disabled", "version"],
)
REGISTERED = obj(
    {**APP["properties"], "client_secret": STRING, "webhook_secret": nullable(STRING)},
    required=["id", "client_secret"],
    description="client_secret 与 webhook_secret 仅在此返回一次",
)
APPS = obj({"items": array(APP)}, required=["items"])
MANIFEST = dict(MANIFEST_SCHEMA)
#: The answer of ``GET /apps/manifest-schema``: the manifest's JSON Schema itself.
MANIFEST_SCHEMA_DOCUMENT = obj(
    {"$schema": STRING, "type": {"const": "object"}, "properties": {"type": "object"}},
    required=["type", "properties"],
    description="应用清单的 JSON Schema（draft 2020-12）",
)
UNITS = obj({"units": array(UNIT_CODE)}, required=["units"], closed=True)
STATE = obj({"disabled": BOOLEAN}, required=["disabled"], closed=True)
SECRET = obj({"secret": STRING}, required=["secret"])
FEED_PARAMS = [
    query_param("cursor", {**INTEGER, "minimum": 0}, "上一页的 next_cursor"),
    query_param("limit", {**INTEGER, "minimum": 0, "maximum": 1000, "default": 100}, "条数"),
]
FEED = obj(
    {
        "items": array(
            obj(
                {
                    "seq": INTEGER,
                    "event_id": STRING,
                    "type": STRING,
                    "occurred_at": DATETIME,
                    "payload": any_object(),
                }
            )
        ),
        "next_cursor": INTEGER,
    },
    required=["items", "next_cursor"],
)
DELIVERY_STATUS = query_param("status", {"enum": ["pending", "done", "dead"]}, "只看该状态")
DELIVERIES = obj({"items": array(any_object("一次投递及其每次尝试"))}, required=["items"])
REPLAYED = obj({"status": {"const": "pending"}}, required=["status"])
PAUSED = obj({"webhook_state": {"enum": ["paused", "active"]}}, required=["webhook_state"])
