"""What the resident routes take is what openapi.json declares, and what they refuse is said in
Chinese, naming the field."""

from __future__ import annotations

import pytest
from shequyun_sdk import ResidentAttribute

from ._data import Eldercare, id_number, resident


@pytest.fixture
def shequyun_plugins():
    return [
        Eldercare(
            ResidentAttribute(
                "care_level", "照护等级", {"type": "integer", "minimum": 0, "maximum": 4}
            ),
            ResidentAttribute("note", "备注", {"type": "string", "maxLength": 5}),
            ResidentAttribute("level", "等级", {"enum": ["轻", "重"]}),
            ResidentAttribute("visits", "走访", {"type": "array", "items": {"type": "integer"}}),
        )
    ]


def create(client, actor, **overrides):
    response = client.post("/api/v1/residents", json=resident(**overrides), headers=actor.auth)
    assert response.status_code == 201, response.text
    return response.json()


def body_schema(document, path, method):
    operation = document["paths"][f"/api/v1/residents{path}"][method]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def test_a_transfer_is_declared_with_the_fields_it_requires(shequyun_client, shequyun_actors):
    document = shequyun_client.get("/api/v1/openapi.json").json()
    schema = body_schema(document, "/{resident_id}/transfer", "post")
    assert sorted(schema["required"]) == ["effective_on", "to_unit_code", "version"]
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    undated = shequyun_client.post(
        f"/api/v1/residents/{created['id']}/transfer",
        json={"to_unit_code": "310104003001", "version": 1},
        headers=cadre.auth,
    )
    assert undated.status_code == 422 and undated.json()["error"]["field"] == "effective_on"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "post",
            "/{id}/transfer",
            {"to_unit_code": "310104003001", "effective_on": "2026-11-01", "version": 1},
        ),
        ("post", "/{id}/reveal", {"fields": ["phone"], "reason": "上门核实"}),
        ("delete", "/{id}", {"reason": "已去世", "version": 1}),
        ("post", "/batch/tags", {"resident_ids": ["{id}"], "add": ["低保"]}),
    ],
)
def test_closed_bodies_refuse_members_they_do_not_declare(
    shequyun_client, shequyun_actors, method, path, body
):
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    url = "/api/v1/residents" + path.replace("{id}", str(created["id"]))
    if "resident_ids" in body:
        body = {**body, "resident_ids": [created["id"]]}
    document = shequyun_client.get("/api/v1/openapi.json").json()
    declared = body_schema(document, path.replace("{id}", "{resident_id}"), method)
    assert declared["additionalProperties"] is False
    answer = shequyun_client.request(
        method.upper(), url, json={**body, "reson": "搬家", "colour": 1}, headers=cadre.auth
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "colour"
    assert error["message"] == "colour：不是可以填写的字段（共 2 处问题）"
    assert [d["field"] for d in error["details"]] == ["colour", "reson"]
    after = shequyun_client.get(f"/api/v1/residents/{created['id']}", headers=cadre.auth).json()
    assert (after["version"], after["unit"]["code"], after["tags"]) == (
        1,
        "310115004001",
        ["独居老人"],
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"eldercare.care_level": 9}, "照护等级：不能大于 4"),
        ({"eldercare.care_level": -1}, "照护等级：不能小于 0"),
        ({"eldercare.care_level": "三"}, "照护等级：应为整数"),
        ({"eldercare.note": "太长太长太长"}, "备注：不能超过 5 个字"),
        ({"eldercare.level": "中"}, "等级：应为以下之一：轻、重"),
        ({"eldercare.visits": [1, "两"]}, "走访[1]：应为整数"),
    ],
)
def test_attribute_errors_are_said_in_chinese(shequyun_client, shequyun_actors, value, message):
    cadre = shequyun_actors.cadre()
    answer = shequyun_client.post(
        "/api/v1/residents", json=resident(attributes=value), headers=cadre.auth
    )
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["error"]["details"]
    assert detail == {"field": f"attributes.{next(iter(value))}", "message": message}


def test_the_list_takes_a_registration_type_in_either_form(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    huji = create(shequyun_client, cadre)
    create(shequyun_client, cadre, id_number=id_number(serial="456"), registration="流动")
    for word in ("huji", "户籍"):
        found = shequyun_client.get(
            "/api/v1/residents", params={"registration": word}, headers=cadre.auth
        )
        assert found.status_code == 200, found.text
        assert [r["id"] for r in found.json()["items"]] == [huji["id"]]
    wrong = shequyun_client.get(
        "/api/v1/residents", params={"registration": "外地"}, headers=cadre.auth
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "registration"
    assert "户籍、常住 或 流动" in wrong.json()["error"]["message"]
