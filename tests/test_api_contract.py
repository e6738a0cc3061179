"""The API's contract in openapi.json: every operation of the kernel and of every installed plugin
has a request-body schema (where it takes a body), response schemas and its query parameters
declared; a query parameter an operation does not declare is refused, naming it."""

from __future__ import annotations

import re

import pytest
from shequyun_sdk import hookimpl
from shequyun_sdk.openapi import INTEGER, describe, obj, query_param
from starlette.responses import JSONResponse
from starlette.routing import Route

#: Operations that take no request body: actions named by their path alone.
NO_BODY = {
    ("POST", "/api/v1/apps/{app_id}/deliveries/{delivery_id}/replay"),
    ("POST", "/api/v1/apps/{app_id}/webhooks/pause"),
    ("POST", "/api/v1/apps/{app_id}/webhooks/resume"),
    ("POST", "/api/v1/apps/{app_id}/{which}"),
    ("DELETE", "/api/v1/calendar/days/{day}"),
    ("POST", "/api/v1/campaigns/{campaign_id}/remind"),
    ("POST", "/api/v1/forms/{form_id}/versions/{number}/publish"),
    ("PUT", "/api/v1/indicators/pins/{name}"),
    ("POST", "/api/v1/users/{user_id}/unlock"),
    ("POST", "/api/v1/users/{user_id}/confirm-holder"),
    ("POST", "/api/v1/quality/duplicates/{pair_id}/different"),
    ("POST", "/api/v1/quality/merges/{merge_id}/undo"),
    ("POST", "/api/v1/quality/residents/{resident_id}/confirm"),
    ("POST", "/api/v1/plugins/interaction/auth/logout"),
    ("POST", "/api/v1/plugins/interaction/auth/phone/resend"),
    ("POST", "/api/v1/plugins/interaction/notifications/read"),
    ("POST", "/api/v1/plugins/interaction/manage/topics/{item_id}/close"),
    ("POST", "/api/v1/plugins/interaction/manage/announcements/{item_id}/withdraw"),
    ("POST", "/api/v1/plugins/interaction/manage/digests"),
}


class Checkins:
    """A plugin declaring its query parameters the way the docs tell plugin authors to."""

    MANIFEST = {
        "name": "checkins",
        "version": "0.1.0",
        "title": {"zh": "打卡"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<2",
    }

    @hookimpl
    def register_api_routes(self, plugin):
        @describe(
            query=[query_param("limit", {**INTEGER, "minimum": 1}, "条数")],
            response=obj({"items": {"type": "array"}}),
        )
        async def list_checkins(request):
            return JSONResponse({"items": []})

        return [Route("/checkins", list_checkins, methods=["GET"])]


@pytest.fixture
def shequyun_discover():
    return True  # the contract covers every installed plugin's API too


@pytest.fixture
def shequyun_plugins():
    return [Checkins()]


@pytest.fixture
def document(shequyun_client):
    response = shequyun_client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_the_document_validates(document):
    from openapi_spec_validator import validate

    validate(document)


def test_every_operation_has_request_and_response_schemas(document):
    missing = []
    for method, path, operation in operations(document):
        answers = {
            status: response
            for status, response in operation["responses"].items()
            if status.startswith("2")
        }
        if not answers:
            missing.append((method, path, "no 2xx response"))
        for status, response in answers.items():
            if status != "204" and not all(
                "schema" in media for media in response.get("content", {}).values()
            ):
                missing.append((method, path, f"{status} without a schema"))
            if status != "204" and not response.get("content"):
                missing.append((method, path, f"{status} without content"))
        takes_body = method in {"POST", "PUT", "PATCH"} and (method, path) not in NO_BODY
        body = operation.get("requestBody")
        if takes_body and not body:
            missing.append((method, path, "no request body"))
        if body and not all("schema" in media for media in body["content"].values()):
            missing.append((method, path, "request body without a schema"))
        for parameter in operation.get("parameters", []):
            if "schema" not in parameter:
                missing.append((method, path, f"parameter {parameter['name']} without a schema"))
    assert missing == []
    assert sum(1 for _ in operations(document)) > 150  # kernel and plugins alike


def test_the_no_body_list_names_only_real_operations(document):
    served = {(method, path) for method, path, _ in operations(document)}
    assert served >= NO_BODY


def test_query_parameters_are_declared_for_the_routes_that_read_them(document):
    declared = {
        (method, path): {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        for method, path, op in operations(document)
    }
    assert {"age_min", "limit", "cursor", "unit"} <= declared[("GET", "/api/v1/residents")]
    assert {"limit", "offset", "unit_code"} <= declared[("GET", "/api/v1/plugins/governance/logs")]
    assert {"unit", "category"} <= declared[("GET", "/api/v1/plugins/interaction/disclosures")]
    assert declared[("GET", "/api/v1/plugins/checkins/checkins")] == {"limit"}


@pytest.fixture
def admin(shequyun_actors):
    client = shequyun_actors.platform_admin().client()
    for plugin in client.get("/api/v1/plugins").json()["plugins"]:
        if not plugin["available"] and not plugin["builtin"]:  # switched off by default
            switched = client.put(
                f"/api/v1/plugin-enablement/{plugin['name']}",
                json={"unit_code": "310000000000", "enabled": True},
            )
            assert switched.status_code == 200, switched.text
    return client


def test_an_unknown_query_parameter_is_a_400_naming_it(admin):
    response = admin.get("/api/v1/residents", params={"unit_code": "310115004001"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_parameter"
    assert error["field"] == "unit_code"
    assert "unit" in error["message"]  # it lists what the route does accept
    assert admin.get("/api/v1/residents", params={"unit": "310115004001"}).status_code == 200


def test_a_plugin_route_refuses_what_its_handler_does_not_declare(admin):
    assert admin.get("/api/v1/plugins/checkins/checkins?limit=5").status_code == 200
    refused = admin.get("/api/v1/plugins/checkins/checkins?limt=5")
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "limt"


def test_every_api_operation_refuses_an_undeclared_query_parameter(document, admin):
    checked = 0
    for method, path, _ in operations(document):
        concrete = re.sub(r"{\w+}", "1", path)
        response = admin.request(method, concrete, params={"zz_unknown": "1"})
        assert response.status_code == 400, (method, path, response.status_code)
        assert response.json()["error"]["field"] == "zz_unknown", (method, path)
        checked += 1
    assert checked > 150
