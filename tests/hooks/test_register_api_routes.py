"""register_api_routes: a plugin's JSON API under ``/api/v1/plugins/<name>/``, errors in one shape."""

from __future__ import annotations

import pytest
from shequyun_sdk import Conflict, ValidationFailed, hookimpl, plugin_from_request, read_json
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._plugins import manifest, plugin_listing


class Deliberation:
    """议事厅: residents raise topics for the committee to deliberate."""

    MANIFEST = manifest("deliberation", "议事厅")

    def __init__(self):
        self.topics = ["老旧小区加装电梯"]

    @hookimpl
    def register_api_routes(self, plugin):
        return [
            Route("/topics", self.list_topics, methods=["GET"]),
            Route("/topics", self.raise_topic, methods=["POST"]),
            Route("/topics/export", self.export, methods=["GET"]),
        ]

    async def list_topics(self, request):
        plugin = plugin_from_request(request)
        return JSONResponse({"topics": self.topics, "self": plugin.api_url("/topics")})

    async def raise_topic(self, request):
        body = await read_json(request)
        title = str(body.get("title", "")).strip()
        if not title:
            raise ValidationFailed("议题标题不能为空", field="title")
        if title in self.topics:
            raise Conflict("该议题已在议事厅中", field="title")
        self.topics.append(title)
        return JSONResponse({"title": title}, status_code=201)

    async def export(self, request):
        raise RuntimeError("导出服务未配置")


class BrokenApi:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_api_routes(self, plugin):
        raise KeyError("parking_lots")


@pytest.fixture
def shequyun_plugins():
    return [Deliberation(), BrokenApi()]


def test_api_routes_are_mounted_under_the_plugin_api_mount(shequyun_client):
    response = shequyun_client.get("/api/v1/plugins/deliberation/topics")
    assert response.status_code == 200
    assert response.json() == {
        "topics": ["老旧小区加装电梯"],
        "self": "/api/v1/plugins/deliberation/topics",
    }
    created = shequyun_client.post(
        "/api/v1/plugins/deliberation/topics", json={"title": "小区停车难"}
    )
    assert created.status_code == 201
    assert (
        "小区停车难" in shequyun_client.get("/api/v1/plugins/deliberation/topics").json()["topics"]
    )


def test_an_api_error_leaves_as_the_platform_error_shape(shequyun_client):
    response = shequyun_client.post("/api/v1/plugins/deliberation/topics", json={"title": " "})
    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "validation_failed", "message": "议题标题不能为空", "field": "title"}
    }

    response = shequyun_client.post(
        "/api/v1/plugins/deliberation/topics", json={"title": "老旧小区加装电梯"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "conflict", "message": "该议题已在议事厅中", "field": "title"}
    }


def test_a_body_that_is_not_json_is_a_400(shequyun_client):
    response = shequyun_client.post(
        "/api/v1/plugins/deliberation/topics",
        content=b"title=",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_an_unhandled_error_is_a_500_in_the_error_shape(shequyun_client):
    response = shequyun_client.get("/api/v1/plugins/deliberation/topics/export")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "导出服务未配置" not in error["message"]
    assert response.headers["x-request-id"] in error["message"]


def test_an_unknown_path_under_the_mount_is_a_404_in_the_error_shape(shequyun_client):
    response = shequyun_client.get("/api/v1/plugins/deliberation/votes")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_raising_register_api_routes_fails_only_that_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert "register_api_routes" in parking["reason"]
    response = shequyun_client.get("/api/v1/plugins/parking/lots")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert shequyun_client.get("/healthz").status_code == 200
    assert shequyun_client.get("/api/v1/plugins/deliberation/topics").status_code == 200
