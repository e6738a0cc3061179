"""Integers from outside never cause a 500: ``²`` (``str.isdigit()`` holds, ``int()`` refuses),
Arabic-Indic digits and ids beyond 64 bits, in paths, query strings, headers and forms, on the
API, the portal and every first-party plugin's routes."""

from __future__ import annotations

import re

import pytest
from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.params import MAX_ID, form_int, header_int, parse_int, path_id, query_int
from starlette.requests import Request
from starlette.routing import Mount, Route

HUGE = str(2**70)
BAD = ["²", "٣", HUGE]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def shequyun_discover():
    return True  # every installed plugin: interaction, governance, advisors, the examples


def routes_of(routes, prefix=""):
    """(path, route) of every HTTP route the app serves, mounts and plugin guards opened."""
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path, route
        elif isinstance(route, Mount):
            inner = route.app
            while not hasattr(inner, "routes") and hasattr(inner, "app"):
                inner = inner.app
            yield from routes_of(getattr(inner, "routes", []), prefix + route.path)


def methods_of(route):
    if route.methods:
        return [m for m in METHODS if m in route.methods]
    return [m for m in METHODS if hasattr(route.endpoint, m.lower())] or ["GET"]


def with_value(path, value, only=None):
    """``path`` with ``value`` in its parameter ``only`` (else every parameter), 1 elsewhere."""

    def fill(match):
        return value if only in (None, match.group(1)) else "1"

    return re.sub(r"{(\w+)(?::\w+)?}", fill, path)


@pytest.fixture
def callers(shequyun_actors):
    admin = shequyun_actors.platform_admin()
    return {"api": admin.client(), "portal": admin.portal()}


def call(callers, method, path, **kwargs):
    client = callers["api"] if path.startswith("/api/") else callers["portal"]
    return client.request(method, path, follow_redirects=False, **kwargs)


def assert_names(response, name):
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if response.headers.get("content-type", "").startswith("application/json"):
        assert response.json()["error"]["field"] == name, response.text


def test_an_id_path_parameter_beyond_any_id_is_a_404_naming_it(shequyun_app, callers):
    checked = 0
    for path, route in routes_of(shequyun_app.routes):
        for name in re.findall(r"{(\w+):int}", path):
            for method in methods_of(route):
                response = call(callers, method, with_value(path, HUGE, name))
                assert response.status_code == 404, (method, path, response.text[:300])
                assert_names(response, name)
                checked += 1
    assert checked > 40  # the walk reached kernel and plugin routes alike


@pytest.mark.parametrize("value", BAD)
def test_no_path_parameter_value_causes_a_500(shequyun_app, callers, value):
    for path, route in routes_of(shequyun_app.routes):
        if "{" not in path or ":path}" in path:
            continue
        for method in methods_of(route):
            response = call(callers, method, with_value(path, value))
            assert response.status_code < 500, (method, path, response.text[:300])


TEXT_IDS = [
    ("/api/v1/residents/{}", "resident_id"),
    ("/api/v1/residents/{}/history", "resident_id"),
    ("/api/v1/campaigns/{}", "campaign_id"),
    ("/api/v1/tasks/{}", "task_id"),
    ("/api/v1/forms/{}", "form_id"),
    ("/api/v1/plugins/advisors/outreach/cases/{}", "case_id"),
    ("/api/v1/plugins/advisors/residents/{}/policies", "resident_id"),
    ("/api/v1/plugins/advisors/residents/{}/resources", "resident_id"),
    ("/api/v1/plugins/governance/cases/{}", "case_id"),
    ("/api/v1/plugins/governance/logs/{}", "log_id"),
    ("/api/v1/plugins/governance/articles/{}", "article_id"),
]


@pytest.mark.parametrize("value", BAD)
def test_an_id_in_a_text_path_segment_is_a_404_naming_it(callers, value):
    for path, name in TEXT_IDS:
        response = call(callers, "GET", path.format(value))
        assert response.status_code == 404, (path, response.text)
        assert_names(response, name)


QUERY_INTEGERS = [
    ("/api/v1/residents?limit={}", "limit"),
    ("/api/v1/residents?age_min={}", "age_min"),
    ("/api/v1/residents/export?purpose=核对&age_max={}", "age_max"),
    ("/api/v1/audit?cursor={}", "cursor"),
    ("/api/v1/users?cursor={}", "cursor"),
    ("/api/v1/tokens?user_id={}", "user_id"),
    ("/api/v1/feed?cursor={}", "cursor"),
    ("/api/v1/calendar?year={}", "year"),
    ("/api/v1/plugins/governance/cases?limit={}", "limit"),
    ("/api/v1/plugins/governance/cases?offset={}", "offset"),
    ("/api/v1/plugins/governance/logs?limit={}", "limit"),
    ("/api/v1/plugins/governance/coverage?months={}", "months"),
    ("/api/v1/plugins/governance/articles?limit={}", "limit"),
    ("/api/v1/plugins/governance/search?q=电梯&limit={}", "limit"),
    ("/api/v1/plugins/governance/picks?kind=resident&limit={}", "limit"),
    ("/api/v1/plugins/advisors/outreach/candidates?after={}", "after"),
    ("/api/v1/plugins/advisors/outreach/candidates?limit={}", "limit"),
]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_integer_in_the_query_is_a_4xx_naming_it(callers, value):
    for path, name in QUERY_INTEGERS:
        assert_names(call(callers, "GET", path.format(value)), name)


PORTAL_QUERIES = [
    "/residents?start={}",
    "/admin/users?cursor={}",
    "/admin/org/import?done={}",
    "/residents/import?done=1&created={}",
    "/plugins/governance/cases?page={}",
    "/plugins/advisors/outreach?after={}",
]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_integer_in_a_portal_query_is_no_500(callers, value):
    for path in PORTAL_QUERIES:
        response = call(callers, "GET", path.format(value))
        assert response.status_code < 500, (path, response.text[:300])


@pytest.mark.parametrize("value", BAD)
def test_a_bad_assisted_resident_header_is_a_404_naming_it(shequyun_actors, value):
    cadre = shequyun_actors.cadre()
    response = cadre.client().get(
        "/api/v1/plugins/interaction/me", headers={"X-Assist-Resident": value.encode("utf-8")}
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"]["field"].lower() == "x-assist-resident"


# -- the helpers themselves ------------------------------------------------------------------


def request(query=b"", headers=(), path_params=None):
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "path_params": path_params or {},
    }
    return Request(scope)


@pytest.mark.parametrize(
    "raw", ["²", "٣", "３", " ", "1.0", "1e3", "+1", "0x1", "1_000", HUGE, "-1"]
)
def test_parse_int_takes_only_ascii_digits_within_range(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_int(raw, "limit", low=0, high=500)
    assert caught.value.field == "limit"
    assert caught.value.status_code == 422


def test_parse_int_reads_what_it_should():
    assert parse_int("42", "n") == 42
    assert parse_int(" 7 ", "n") == 7
    assert parse_int(7, "n") == 7
    assert parse_int("-3", "n", low=-5) == -3
    assert parse_int(str(MAX_ID), "n") == MAX_ID
    with pytest.raises(ValidationFailed):
        parse_int(True, "n")
    with pytest.raises(ValidationFailed):
        parse_int(str(MAX_ID + 1), "n")


def test_query_header_and_form_helpers():
    assert query_int(request(b"limit=20"), "limit", 50, low=1, high=200) == 20
    assert query_int(request(b""), "limit", 50) == 50
    assert query_int(request(b"limit="), "limit") is None
    with pytest.raises(ValidationFailed, match="只能给一次"):
        query_int(request(b"limit=1&limit=2"), "limit")
    with pytest.raises(ValidationFailed) as caught:
        query_int(request(b"age_min=%C2%B2"), "age_min", high=150)
    assert caught.value.field == "age_min"
    assert header_int(request(headers=[("X-Count", "3")]), "X-Count") == 3
    with pytest.raises(ValidationFailed):
        header_int(request(headers=[("X-Count", HUGE)]), "X-Count")
    assert form_int({"version": "4"}, "version") == 4
    assert form_int({}, "version", 0) == 0


@pytest.mark.parametrize("raw", ["²", "0", "abc", HUGE, 2**70])
def test_path_id_is_a_404_naming_the_parameter(raw):
    with pytest.raises(NotFound) as caught:
        path_id(request(path_params={"case_id": raw}), "case_id")
    assert caught.value.field == "case_id"


def test_path_id_reads_an_id():
    assert path_id(request(path_params={"case_id": "12"}), "case_id") == 12
    assert path_id(request(path_params={"case_id": 12}), "case_id") == 12


def test_a_label_words_the_refusal_for_people_and_the_field_stays_the_key():
    with pytest.raises(ValidationFailed) as caught:
        parse_int("abc", "resident_id", low=1, label="居民编号")
    assert caught.value.message == f"居民编号：应为 1 到 {MAX_ID} 之间的整数"
    assert caught.value.field == "resident_id"
    with pytest.raises(ValidationFailed) as caught:
        form_int({"households": "²"}, "households", high=500, label="户数")
    assert caught.value.message == "户数：应为 0 到 500 之间的整数"
    assert caught.value.field == "households"
    assert form_int({"households": "12"}, "households", label="户数") == 12
    assert form_int({}, "households", 3, label="户数") == 3


def test_without_a_label_the_refusal_names_the_key_as_before_1_4():
    with pytest.raises(ValidationFailed) as caught:
        parse_int("abc", "resident_id", low=1)
    assert caught.value.message == f"resident_id 应为 1 到 {MAX_ID} 之间的整数"
    with pytest.raises(ValidationFailed) as caught:
        form_int({"version": "x"}, "version")
    assert caught.value.message == f"version 应为 0 到 {MAX_ID} 之间的整数"
