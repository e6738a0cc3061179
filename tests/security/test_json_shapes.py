"""A JSON body of the wrong shape is a 4xx on every operation, never a 500.

The fuzz run (tests/test_fuzz_api.py) tries a few cases per operation; this one tries, for
every top-level property every JSON request body declares (the kernel's and every installed
plugin's), a value no handler expects — a list in a list, where a choice such as ``gender`` or
``kind`` was looked up in a dict (``unhashable type: 'list'``, a 500) — as a platform
administrator, a committee cadre and a resident of 居社互动.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

COMMITTEE = "310115004001"
RESIDENT_API = "/api/v1/plugins/interaction"
PASSWORD = "Resident-pass-1"


@pytest.fixture
def shequyun_discover():
    return True  # every installed plugin's operations too


def body_properties(document: dict) -> Iterator[tuple[str, str, str]]:
    """(method, path, property) of every top-level property of every JSON request body."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            for name in schema.get("properties") or {}:
                yield method.upper(), path, name


def concrete(path: str) -> str:
    """The path with a committee's code and small ids in its parameters."""
    path = path.replace("{code}", COMMITTEE)
    return re.sub(r"\{[^}]+\}", "1", path)


def test_a_list_where_a_value_was_expected_is_refused_not_a_500(shequyun_client, shequyun_actors):
    client = shequyun_client
    admin = shequyun_actors.platform_admin()
    cadre = shequyun_actors.cadre(COMMITTEE)
    phone = {"phone": "13800000001", "password": PASSWORD}
    assert client.post(f"{RESIDENT_API}/auth/signup", json=phone).status_code == 201
    token = client.post(f"{RESIDENT_API}/auth/login", json=phone).json()["token"]
    callers = {
        "admin": admin.auth,
        "cadre": cadre.auth,
        "resident": {"X-Resident-Token": token},
    }
    document = client.get("/api/v1/openapi.json", headers=admin.auth).json()
    operations = list(body_properties(document))
    assert len(operations) > 100  # the kernel's and the plugins' bodies were all found
    failures = []
    for method, path, name in operations:
        for who, headers in callers.items():
            answer = client.request(method, concrete(path), headers=headers, json={name: [[]]})
            if answer.status_code >= 500:
                failures.append(f"{method} {path} {{{name!r}: [[]]}} as {who}: {answer.text}")
    assert not failures, "\n".join(failures)


def nested(name: str, depth: int) -> bytes:
    """``{name: [[[…]]]}``, the list ``depth`` levels deep, written by hand (the test client's
    own JSON encoder would refuse it)."""
    return ("{" + f'"{name}": ' + "[" * depth + "]" * depth + "}").encode()


def test_a_body_nested_a_thousand_levels_deep_is_refused_not_a_500(
    shequyun_client, shequyun_actors
):
    """orjson reads 1,024 levels; a handler that printed, stored or schema-checked such a value
    ran out of Python's recursion (the apps API's stdlib reader did at reading it)."""
    client = shequyun_client
    admin = shequyun_actors.platform_admin()
    cadre = shequyun_actors.cadre(COMMITTEE)
    document = client.get("/api/v1/openapi.json", headers=admin.auth).json()
    failures = []
    for method, path, name in body_properties(document):
        for who, actor in (("admin", admin), ("cadre", cadre)):
            answer = client.request(
                method,
                concrete(path),
                headers={**actor.auth, "content-type": "application/json"},
                content=nested(name, 1000),
            )
            if answer.status_code >= 500:
                failures.append(f"{method} {path} {name} nested as {who}: {answer.text}")
    assert not failures, "\n".join(failures)

    deep = client.post(
        "/api/v1/apps",
        headers={**admin.auth, "content-type": "application/json"},
        content=nested("slug", 1000),
    )
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_json"
    assert "嵌套过深" in deep.json()["error"]["message"]
    # Depth a real document may have is read as before, and refused for its content.
    shallow = client.post(
        "/api/v1/residents",
        headers={**cadre.auth, "content-type": "application/json"},
        content=nested("tags", 60),
    )
    assert shallow.status_code == 422, shallow.text
