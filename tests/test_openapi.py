"""GET /api/v1/openapi.json: an OpenAPI 3.1 document of every /api/v1 route actually served."""

from __future__ import annotations

import re

import pytest
from shequyun_sdk import hookimpl
from starlette.endpoints import HTTPEndpoint
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from shequyun.openapi import build_document

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def list_topics(request):
    """Topics raised by residents, newest first.

    Only open topics are listed; closed ones stay in the archive.
    """
    return JSONResponse({"topics": []})


async def raise_topic(request):
    """Raise a topic for the committee to deliberate."""
    return JSONResponse({}, status_code=201)


raise_topic.__openapi__ = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"title": {"type": "string"}}}
            }
        },
    },
    "responses": {"201": {"description": "已提交"}, "409": {"description": "重复的议题"}},
    "parameters": [
        {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}},
    ],
}


async def show_topic(request):
    return JSONResponse({})


show_topic.__openapi__ = ["not", "a", "mapping"]  # ignored, never a 500


async def hidden(request):
    """Internal probe, left out of the document."""
    return JSONResponse({})


class Votes(HTTPEndpoint):
    async def get(self, request):
        """Votes on one topic."""
        return JSONResponse({})

    async def post(self, request):
        """Cast a vote."""
        return JSONResponse({}, status_code=201)


class Deliberation:
    MANIFEST = {
        "name": "deliberation",
        "version": "0.1.0",
        "title": {"zh": "议事厅"},
        "description": {"zh": "居民议事（测试插件）"},
        "sdk": ">=0.1,<0.2",
    }

    @hookimpl
    def register_api_routes(self, plugin):
        return [
            Route("/topics", list_topics, methods=["GET"]),
            Route("/topics", raise_topic, methods=["POST"]),
            Route("/topics/{topic_id:int}", show_topic),
            Route("/topics/{topic_id:int}/votes", Votes),
            Route("/probe", hidden, include_in_schema=False),
            Mount("/archive/{year:int}", routes=[Route("/{slug}", show_topic)]),
        ]


@pytest.fixture
def shequyun_plugins():
    return [Deliberation()]


@pytest.fixture
def document(shequyun_client):
    response = shequyun_client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def served_api_operations(routes, prefix=""):
    """(path, method) of every route the app serves under /api/v1, found independently."""
    for route in routes:
        if isinstance(route, Route):
            if route.include_in_schema and (prefix + route.path).startswith("/api/v1"):
                endpoint = route.endpoint
                methods = route.methods or {m for m in METHODS if hasattr(endpoint, m.lower())}
                path = re.sub(r"{(\w+):\w+}", r"{\1}", prefix + route.path)
                yield from ((path, m) for m in methods & METHODS)
        elif isinstance(route, Mount):
            inner = route.app
            inner = getattr(inner, "app", inner) if not hasattr(inner, "routes") else inner
            yield from served_api_operations(getattr(inner, "routes", []), prefix + route.path)


def documented_operations(document):
    return {(path, m.upper()) for path, item in document["paths"].items() for m in item}


def test_the_document_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert all(path.startswith("/api/v1") for path in document["paths"])


def test_it_passes_the_openapi_spec_validator(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


def test_every_api_route_is_documented_and_nothing_else(document, shequyun_app):
    served = set(served_api_operations(shequyun_app.routes))
    assert ("/api/v1/audit", "GET") in served  # the walk really reached the kernel's routes
    assert ("/api/v1/plugins/deliberation/topics", "POST") in served
    assert documented_operations(document) == served


def test_every_documented_path_is_served(document, shequyun_client):
    # Anonymous calls with 1 for every path parameter. A handler may well answer 404 for
    # object 1, but not with the router's own "no such route" answer, nor with a 405.
    no_route = shequyun_client.get("/api/v1/no/such/route")
    assert no_route.status_code == 404
    for path, item in document["paths"].items():
        concrete = re.sub(r"{\w+}", "1", path)
        for method in item:
            response = shequyun_client.request(method.upper(), concrete)
            assert response.status_code != 405, (method, path)
            assert response.content != no_route.content, (method, path)


def test_plugin_routes_are_tagged_with_their_plugin(document):
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["deliberation"] == "议事厅"
    assert tags["identity"] == "身份与权限"
    for path, item in document["paths"].items():
        expected = "deliberation" if path.startswith("/api/v1/plugins/deliberation/") else None
        for operation in item.values():
            assert len(operation["tags"]) == 1
            if expected:
                assert operation["tags"] == [expected]
            else:
                assert operation["tags"][0] != "deliberation"
    assert document["paths"]["/api/v1/audit"]["get"]["tags"] == ["identity"]
    assert document["paths"]["/api/v1/openapi.json"]["get"]["tags"] == ["openapi"]


def test_summary_and_description_come_from_the_docstring(document):
    topics = document["paths"]["/api/v1/plugins/deliberation/topics"]
    assert topics["get"]["summary"] == "Topics raised by residents, newest first."
    assert topics["get"]["description"] == (
        "Only open topics are listed; closed ones stay in the archive."
    )
    assert topics["post"]["summary"] == "Raise a topic for the committee to deliberate."
    assert "description" not in topics["post"]
    votes = document["paths"]["/api/v1/plugins/deliberation/topics/{topic_id}/votes"]
    assert votes["get"]["summary"] == "Votes on one topic."
    assert votes["post"]["summary"] == "Cast a vote."


def test_path_parameters_come_from_the_path(document):
    topic = document["paths"]["/api/v1/plugins/deliberation/topics/{topic_id}"]["get"]
    assert topic["parameters"] == [
        {
            "name": "topic_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        }
    ]
    archived = document["paths"]["/api/v1/plugins/deliberation/archive/{year}/{slug}"]["get"]
    assert [(p["name"], p["schema"]["type"]) for p in archived["parameters"]] == [
        ("year", "integer"),
        ("slug", "string"),
    ]
    entry = document["paths"]["/api/v1/audit/{entry_id}"]["get"]
    assert entry["parameters"][0]["name"] == "entry_id"


def test_an_endpoint_may_describe_more_of_itself(document):
    post = document["paths"]["/api/v1/plugins/deliberation/topics"]["post"]
    assert post["requestBody"]["required"] is True
    assert set(post["responses"]) == {"201", "409", "default"}  # no generic 200 beside a 201
    assert post["parameters"] == [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}]
    audit = document["paths"]["/api/v1/audit"]["get"]
    names = [p["name"] for p in audit["parameters"]]
    assert {"action", "outcome", "actor", "unit", "from", "to", "cursor", "limit"} <= set(names)
    assert (
        "items" in audit["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    )


def test_errors_and_security_are_described_once(document):
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["properties"]) == {"code", "message", "field", "details", "details_total"}
    assert error["required"] == ["code", "message"]
    assert document["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    assert {"bearerToken": []} in document["security"]
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_operation_ids_are_unique(document):
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "identity.list_audit" in ids


def test_a_plugin_that_fails_drops_out_of_the_document(shequyun_client, shequyun_kernel):
    shequyun_kernel.host.fail("deliberation", "broken for the test")
    document = shequyun_client.get("/api/v1/openapi.json").json()
    assert not any("/plugins/deliberation/" in path for path in document["paths"])
    assert "deliberation" not in {t["name"] for t in document["tags"]}


def test_the_builder_works_without_a_request(shequyun_app):
    document = build_document(shequyun_app)
    assert "/api/v1/me" in document["paths"]
    assert "/healthz" not in document["paths"]
