"""Declare what an API endpoint accepts and answers, once: the platform's ``openapi.json`` is
built from it, and the kernel refuses query parameters an endpoint does not declare.

::

    from shequyun_sdk.openapi import describe, obj, page_of, query_param, INTEGER, STRING

    CHECKIN = obj({"id": INTEGER, "households": INTEGER}, required=["id"])

    @describe(
        query=[query_param("limit", {**INTEGER, "minimum": 1, "maximum": 200}, "每页条数")],
        response=page_of(CHECKIN),
    )
    @requires("garbage.view")
    async def list_checkins(request): ...

    @describe(body=obj({"households": INTEGER}, required=["households"]), response=CHECKIN,
              status=201)
    @requires("garbage.record")
    async def create_checkin(request): ...

An API request with a query parameter its endpoint does not declare is answered 400
``unknown_parameter`` naming it: a misspelt filter (``?unit_code=`` where the endpoint reads
``?unit=``) would otherwise be ignored and the answer cover everything the caller may see.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

__all__ = [
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "INTEGER",
    "NUMBER",
    "OPENAPI_ATTRIBUTE",
    "STRING",
    "UNIT_CODE",
    "any_object",
    "array",
    "declared_query",
    "describe",
    "json_body",
    "json_response",
    "nullable",
    "obj",
    "page_of",
    "query_param",
]

#: The attribute of an endpoint (or of an ``HTTPEndpoint`` method) holding its OpenAPI
#: operation fields.
OPENAPI_ATTRIBUTE = "__openapi__"

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
NUMBER: dict[str, Any] = {"type": "number"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
#: A 12-digit org-unit code (``310115004001``).
UNIT_CODE: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{12}$"}

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def describe(
    *,
    query: Sequence[Mapping[str, Any]] = (),
    body: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    status: int = 200,
    **operation: Any,
) -> Callable[[Endpoint], Endpoint]:
    """Attach OpenAPI operation fields to an endpoint (put it above ``@requires``).

    ``query`` lists its query parameters (:func:`query_param`): the only ones it accepts.
    ``body`` is the JSON Schema of a JSON request body (or pass a whole ``requestBody``, e.g.
    from :func:`json_body`, as ``requestBody=``); ``response`` the JSON Schema of the answer
    with status ``status``. Any other keyword is an OpenAPI operation field
    (``responses``, ``parameters``, ``summary``...) merged as given.
    """
    fields: dict[str, Any] = dict(operation)
    if query:
        fields["parameters"] = [*fields.get("parameters", []), *map(dict, query)]
    if body is not None:
        fields["requestBody"] = json_body(body)
    if response is not None:
        responses = dict(fields.get("responses") or {})
        responses[str(status)] = json_response(response, responses.get(str(status)))
        fields["responses"] = responses

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, OPENAPI_ATTRIBUTE, copy.deepcopy(fields))
        return endpoint

    return mark


def query_param(
    name: str,
    schema: Mapping[str, Any] | None = None,
    description: str = "",
    *,
    required: bool = False,
) -> dict[str, Any]:
    """An OpenAPI query parameter (a string unless ``schema`` says otherwise)."""
    parameter: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": required,
        "schema": dict(schema or STRING),
    }
    if description:
        parameter["description"] = description
    return parameter


def json_body(schema: Mapping[str, Any], *, required: bool = True) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` of JSON matching ``schema``."""
    return {"required": required, "content": {"application/json": {"schema": dict(schema)}}}


def json_response(schema: Mapping[str, Any], given: Any = None) -> dict[str, Any]:
    """An OpenAPI response of JSON matching ``schema`` (keeping ``given``'s description)."""
    description = given.get("description") if isinstance(given, Mapping) else None
    return {
        "description": description or "成功",
        "content": {"application/json": {"schema": dict(schema)}},
    }


def obj(
    properties: Mapping[str, Any],
    *,
    required: Iterable[str] = (),
    closed: bool = False,
    description: str = "",
) -> dict[str, Any]:
    """A JSON object schema; ``closed`` refuses members not listed (as request bodies do)."""
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    wanted = list(required)
    if wanted:
        schema["required"] = wanted
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def any_object(description: str = "") -> dict[str, Any]:
    """An object whose members the schema does not fix (e.g. a resident's open attributes)."""
    return obj({}, description=description)


def array(items: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A JSON array of ``items``."""
    return {"type": "array", "items": dict(items), **extra}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` or ``null``."""
    return {"anyOf": [dict(schema), {"type": "null"}]}


def page_of(item: Mapping[str, Any], cursor: Mapping[str, Any] = STRING) -> dict[str, Any]:
    """A page of ``item``: ``{"items": [...], "next_cursor": ... | null}``."""
    return obj(
        {"items": array(item), "next_cursor": nullable(cursor)}, required=["items", "next_cursor"]
    )


def declared_query(handler: Any) -> frozenset[str]:
    """The names of the query parameters ``handler`` declares through :func:`describe`."""
    fields = getattr(handler, OPENAPI_ATTRIBUTE, None)
    parameters = fields.get("parameters", []) if isinstance(fields, Mapping) else []
    return frozenset(
        str(p.get("name"))
        for p in parameters
        if isinstance(p, Mapping) and p.get("in") == "query" and p.get("name")
    )
