"""The platform's router tries only the routes a path's first segment can reach, and answers
every path exactly as Starlette's own router over the same routes would."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.testclient import TestClient

from shequyun.route_index import IndexedRouter, first_segment, template_aimed_at


def answer(text: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{text} {dict(request.path_params)}")

    return endpoint


def routes() -> list[BaseRoute]:
    return [
        Mount("/api/v1/plugins/notes", routes=[Route("/items", answer("plugin items"))]),
        Mount(
            "/api/v1",
            app=Router(
                routes=[
                    Route("/me", answer("me")),
                    Route("/residents/{resident_id:int}", answer("resident")),
                    Route("/residents", answer("residents list")),
                    Route("/residents", answer("residents create"), methods=["POST"]),
                ]
            ),
        ),
        Route("/healthz", answer("healthz")),
        Route("/residents/", answer("residents page")),
        Route("/{slug}/about", answer("about")),  # a parameter first: tried for every path
        Route("/residents/{resident_id:int}", answer("resident page")),
        Route("/", answer("home")),
        Route("/only-post", answer("only post"), methods=["POST"]),
    ]


PATHS = [
    ("GET", "/healthz"),
    ("GET", "/healthz/"),  # Starlette redirects to the path without the slash
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/residents"),
    ("POST", "/api/v1/residents"),
    ("DELETE", "/api/v1/residents"),  # 405 from a partial match
    ("GET", "/api/v1/residents/7"),
    ("GET", "/api/v1/plugins/notes/items"),
    ("GET", "/residents"),  # redirected to /residents/
    ("GET", "/residents/"),
    ("GET", "/residents/12"),
    ("GET", "/residents/about"),  # the parameter route, though "residents" has its own
    ("GET", "/x/about"),
    ("GET", "/"),
    ("GET", "/only-post"),  # 405
    ("POST", "/only-post"),
    ("GET", "/nowhere"),  # 404
    ("GET", "/api/v2/me"),
]


def app_with(router_class: type[Router]) -> Starlette:
    app = Starlette()
    app.router = router_class(routes=routes())
    return app


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_path_is_answered_as_by_starlettes_own_router(method, path):
    indexed = TestClient(app_with(IndexedRouter)).request(method, path, follow_redirects=False)
    plain = TestClient(app_with(Router)).request(method, path, follow_redirects=False)
    assert (indexed.status_code, indexed.text, indexed.headers.get("location")) == (
        plain.status_code,
        plain.text,
        plain.headers.get("location"),
    )


def test_a_path_tries_only_its_segments_routes_and_the_catch_alls_in_order():
    router = IndexedRouter(routes=routes())
    names = [getattr(r, "path", None) for r in router.candidates("/healthz")]
    assert names == ["/healthz", "/{slug}/about"]
    names = [getattr(r, "path", None) for r in router.candidates("/residents/3")]
    assert names == ["/residents/", "/{slug}/about", "/residents/{resident_id:int}"]
    assert [getattr(r, "path", None) for r in router.candidates("/nowhere")] == ["/{slug}/about"]


def test_routes_added_later_are_found():
    app = app_with(IndexedRouter)
    client = TestClient(app)
    assert client.get("/late").status_code == 404
    app.router.routes.append(Route("/late", answer("late")))
    assert client.get("/late").text == "late {}"


def test_first_segments():
    assert first_segment(Route("/healthz", answer("x"))) == "healthz"
    assert first_segment(Mount("/api/v1", routes=[])) == "api"
    assert first_segment(Route("/{slug}", answer("x"))) is None
    assert first_segment(Route("/", answer("x"))) == ""
    assert first_segment(Mount("", routes=[])) is None


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/api/v1/residents/7", "/api/v1/residents/{resident_id:int}"),
        ("POST", "/api/v1/residents", "/api/v1/residents"),
        ("DELETE", "/api/v1/residents", "/api/v1/residents"),  # another method's route: a 405
        ("GET", "/api/v1/plugins/notes/items", "/api/v1/plugins/notes/items"),
        ("GET", "/x/about", "/{slug}/about"),
        ("GET", "/api/v1/nothing", None),  # inside a mount, but nothing there serves it
        ("GET", "/nowhere", None),
        # Starlette redirects these (307) to the same path with or without the slash
        ("GET", "/healthz/", "/healthz"),
        ("GET", "/residents", "/residents/"),
        ("GET", "/api/v1/me/", "/api/v1/me"),
        ("GET", "/nowhere/", None),
        ("GET", "/", "/"),
    ],
)
def test_the_template_a_request_is_aimed_at_before_routing(method, path, template):
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    assert template_aimed_at(routes(), scope) == template
    assert template_aimed_at(IndexedRouter(routes=routes()), scope) == template


class Counted(Route):
    """A route that counts how often it is asked whether a request matches it."""

    asked = 0

    def matches(self, scope):  # type: ignore[no-untyped-def]
        Counted.asked += 1
        return super().matches(scope)


def test_an_indexed_router_is_asked_only_for_the_routes_of_the_paths_first_segment():
    """A scanner's stream of 404s costs the routes of each path's first segment, not a walk
    over every route of the platform."""
    many = [Counted(f"/page-{n}/{{item_id:int}}", answer("page")) for n in range(50)]
    router = IndexedRouter(routes=[*many, Route("/healthz", answer("healthz"))])
    Counted.asked = 0
    for path in ("/wp-admin/setup.php", "/.env", "/healthz/x", "/page-7x/1"):
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        assert template_aimed_at(router, scope) is None
    assert Counted.asked == 0
    scope = {"type": "http", "method": "GET", "path": "/page-7/1/", "root_path": ""}
    assert template_aimed_at(router, scope) == "/page-7/{item_id:int}"
    assert Counted.asked == 2  # the path, then the path without its slash
    assert template_aimed_at(many, scope) == "/page-7/{item_id:int}"  # a list: every route
    assert Counted.asked > 50
