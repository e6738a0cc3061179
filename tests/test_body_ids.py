"""Ids taken from a JSON body never cause a 500: every API operation whose body declares an
integer ``*_id`` (or the id a merge ``keep``\\ s) answers a number beyond any id, a negative one,
a string and a boolean with a 4xx — on PostgreSQL too, which refuses to compare an id column
with a number beyond its range (``integer out of range``)."""

from __future__ import annotations

import re

import pytest

BAD_IDS = [2**70, 2**40, -1, 0, "1", True, 1.5]


@pytest.fixture
def shequyun_discover():
    return True  # every installed plugin's API too


def body_id_fields(document):
    """(method, path, field) of every integer id a request body declares at its top level."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            for name, prop in (schema.get("properties") or {}).items():
                types = prop.get("type")
                integer = types == "integer" or (isinstance(types, list) and "integer" in types)
                if integer and (name.endswith("_id") or name == "keep"):
                    yield method.upper(), path, name


def test_the_api_declares_body_ids_to_check(shequyun_client):
    document = shequyun_client.get("/api/v1/openapi.json").json()
    names = {name for _, _, name in body_id_fields(document)}
    assert {"form_id", "user_id", "grant_id"} <= names


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_no_body_id_causes_a_500(shequyun_client, shequyun_actors, value):
    document = shequyun_client.get("/api/v1/openapi.json").json()
    client = shequyun_actors.platform_admin().client()
    failures = []
    for method, path, name in body_id_fields(document):
        url = re.sub(r"{\w+}", "1", path)
        response = client.request(method, url, json={name: value})
        if response.status_code >= 500:
            failures.append((method, path, name, response.status_code, response.text[:200]))
    assert failures == []


@pytest.mark.parametrize("value", [2**70, 2**40, -1, "3", True])
@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("/api/v1/grants", "user_id", {"role": "identity.cadre", "unit_code": "310104003001"}),
        ("/api/v1/tokens", "grant_id", {"name": "同步", "expires_in_days": 30}),
        ("/api/v1/campaigns", "form_id", {"version": 1, "deadline": "2030-01-01T00:00:00+08:00"}),
    ],
)
def test_a_bad_kernel_body_id_is_a_4xx_naming_the_field(shequyun_actors, path, field, body, value):
    response = shequyun_actors.platform_admin().client().post(path, json={**body, field: value})
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text
