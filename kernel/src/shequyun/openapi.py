"""The OpenAPI 3.1 document of ``/api/v1``, built from the routes the app really serves.

Nothing is declared twice: :func:`build_document` walks the app's routes (the kernel's own and
every active plugin's mount), takes each path and its parameters from the route, the summary
and description from the endpoint's docstring, and tags each operation with the plugin that
contributed it. An endpoint may carry more detail (query parameters, a request body, response
schemas) in an ``__openapi__`` mapping, merged into its operation; :func:`describe` sets it.
"""

from __future__ import annotations

import copy
import importlib.metadata
import inspect
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import shequyun_sdk
from shequyun_sdk.openapi import OPENAPI_ATTRIBUTE, describe
from shequyun_sdk.params import MAX_ID
from starlette.applications import Starlette
from starlette.convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    UUIDConvertor,
)
from starlette.endpoints import HTTPEndpoint
from starlette.routing import BaseRoute, Mount, Route, compile_path

from .identity.auth import SESSION_COOKIE
from .plugin_host import API_PREFIX, PluginRecord

__all__ = ["ERROR_RESPONSE", "OPENAPI_ATTRIBUTE", "build_document", "describe"]

log = logging.getLogger("shequyun.openapi")

#: ``$ref`` of the platform's error response, for endpoints that name their own error statuses.
ERROR_RESPONSE = {"$ref": "#/components/responses/Error"}

OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def build_document(app: Starlette) -> dict[str, Any]:
    """The OpenAPI document of every ``/api/v1`` route ``app`` serves right now."""
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    operation_ids: set[str] = set()
    for found in _walk(app.routes, "", None):
        if not (found.path == API_PREFIX or found.path.startswith(API_PREFIX + "/")):
            continue
        tag = found.record.name if found.record is not None else "kernel"
        if found.record is not None:
            tags.setdefault(tag, found.record.title)
        item = paths.setdefault(_PARAM.sub(r"{\1}", found.path), {})
        methods = _methods(found.route)
        for method, handler in methods:
            operation = _operation(found, handler, tag)
            operation["operationId"] = _unique(
                f"{tag}.{_name(found.route.endpoint)}"
                + (f"_{method.lower()}" if len(methods) > 1 else ""),
                operation_ids,
            )
            item[method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "社区云 shequyun API",
            "version": _kernel_version(),
            "description": (
                "社区云平台与各插件的 HTTP API。认证：`Authorization: Bearer <令牌>`，"
                "或门户登录会话（变更请求须带 `X-CSRF-Token`）。错误统一为 "
                '`{"error": {"code", "message", "field"?, "details"?}}`。'
            ),
            "x-sdk-version": shequyun_sdk.__version__,
        },
        "tags": [{"name": name, "description": title} for name, title in sorted(tags.items())],
        "paths": dict(sorted(paths.items())),
        "components": _components(),
        "security": [{"bearerToken": []}, {"sessionCookie": []}],
    }


@dataclass(frozen=True)
class _Found:
    path: str
    route: Route
    record: PluginRecord | None


def _walk(routes: list[BaseRoute], prefix: str, record: PluginRecord | None) -> Iterator[_Found]:
    """Every HTTP route below ``routes`` with its full path and the plugin serving it."""
    for route in routes:
        if isinstance(route, Route):
            # Kernel routes are wrapped one by one, plugin routes by their mount.
            owner = _guarded_by(route.app) or record
            if route.include_in_schema and (owner is None or owner.active):
                yield _Found(prefix + route.path, route, owner)
        elif isinstance(route, Mount):
            inner: Any = route.app
            owner = record
            if _guarded_by(inner) is not None:
                owner, inner = _guarded_by(inner), inner.app
            if owner is not None and not owner.active:
                continue
            children = getattr(inner, "routes", None)
            if isinstance(children, list):
                yield from _walk(children, prefix + route.path, owner)


def _guarded_by(app: Any) -> PluginRecord | None:
    """The plugin whose guard (``app.PluginGuard``) wraps ``app``, if any."""
    record = getattr(app, "record", None)
    return record if isinstance(record, PluginRecord) else None


def _methods(route: Route) -> list[tuple[str, Callable[..., Any]]]:
    """``(method, handler)`` for each method the route answers, HEAD left out."""
    endpoint = route.endpoint
    if inspect.isclass(endpoint) and issubclass(endpoint, HTTPEndpoint):
        allowed = route.methods or set(HTTP_METHODS)
        return [
            (m, getattr(endpoint, m.lower()))
            for m in HTTP_METHODS
            if m in allowed and callable(getattr(endpoint, m.lower(), None))
        ]
    allowed = route.methods or {"GET"}
    return [(m, endpoint) for m in HTTP_METHODS if m in allowed]


def _operation(found: _Found, handler: Callable[..., Any], tag: str) -> dict[str, Any]:
    doc = inspect.getdoc(handler) or ""
    summary, _, rest = doc.strip().partition("\n")
    operation: dict[str, Any] = {"tags": [tag], "summary": summary.strip() or found.route.name}
    if rest.strip():
        operation["description"] = rest.strip()
    _, _, convertors = compile_path(found.path)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _param_schema(convertor)}
        for name, convertor in convertors.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    extra = getattr(handler, OPENAPI_ATTRIBUTE, None)
    if extra is not None and not isinstance(extra, Mapping):
        log.warning("ignoring %s of %s: not a mapping", OPENAPI_ATTRIBUTE, _name(handler))
        extra = None
    if extra:
        operation = _merge(operation, copy.deepcopy(dict(extra)))
    responses = operation.setdefault("responses", {})
    if not any(str(status).startswith(("2", "3")) for status in responses):
        responses["200"] = {"description": "成功"}
    responses.setdefault("default", ERROR_RESPONSE)
    return operation


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``: mappings merged key by key, parameters by (name, in)."""
    merged = dict(base)
    for key, value in extra.items():
        if key == "parameters" and isinstance(value, list):
            keyed = {(p.get("name"), p.get("in")): p for p in merged.get("parameters", [])}
            for parameter in value:
                keyed[(parameter.get("name"), parameter.get("in"))] = parameter
            merged["parameters"] = list(keyed.values())
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _param_schema(convertor: Convertor[Any]) -> dict[str, Any]:
    if isinstance(convertor, IntegerConvertor):
        return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    if isinstance(convertor, FloatConvertor):
        return {"type": "number", "minimum": 0}
    if isinstance(convertor, UUIDConvertor):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _components() -> dict[str, Any]:
    return {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "description": "供程序判断的错误代码"},
                            "message": {"type": "string", "description": "给人看的中文说明"},
                            "field": {"type": "string", "description": "出错的字段或参数"},
                            "details": {
                                "type": "array",
                                "description": "逐项列出的问题（如导入时每一行），最多 1000 项",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "field": {"type": "string"},
                                        "message": {"type": "string"},
                                    },
                                },
                            },
                            "details_total": {
                                "type": "integer",
                                "description": "问题超过 1000 项时的总数（details 只列前 1000 项）",
                            },
                        },
                    }
                },
            }
        },
        "responses": {
            "Error": {
                "description": "错误：4xx 为请求的问题，5xx 为服务器的问题（附请求编号）",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
        "securitySchemes": {
            "bearerToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "管理员为某一授权签发的访问令牌（sqy_ 开头）",
            },
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": SESSION_COOKIE,
                "description": "门户登录会话；变更请求须带 X-CSRF-Token 请求头",
            },
        },
    }


def _name(handler: Callable[..., Any]) -> str:
    return str(getattr(handler, "__name__", type(handler).__name__))


def _unique(candidate: str, taken: set[str]) -> str:
    name, n = candidate, 1
    while name in taken:
        n += 1
        name = f"{candidate}_{n}"
    taken.add(name)
    return name


def _kernel_version() -> str:
    try:
        return importlib.metadata.version("shequyun")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0"
