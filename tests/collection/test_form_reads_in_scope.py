"""Reading a form's versions and its workbook goes through one scope-checked service call
(``FormService.with_versions``, ``get_version``, ``workbook``), the same for both doors."""

from __future__ import annotations

from ._forms import COMMITTEE_COUNT as COUNT

PUDONG, XUHUI = "310115000000", "310104000000"
WITH_REF = {
    "schema": {
        "type": "object",
        "$defs": {"count": {"type": "integer", "minimum": 0}},
        "properties": {"households": {"$ref": "#/$defs/count"}},
    },
    "ui": {"fields": {"households": {"label": "户数"}}},
}


def test_a_form_out_of_reach_is_not_found_through_either_door(shequyun_actors):
    owner, other = shequyun_actors.bureau(PUDONG), shequyun_actors.bureau(XUHUI)
    made = owner.client().post("/api/v1/forms", json={"title": "住户摸底", **COUNT})
    assert made.status_code == 201, made.text
    form = made.json()["id"]
    api, portal = other.client(), other.portal()
    for path in (f"/api/v1/forms/{form}", f"/api/v1/forms/{form}/versions/1"):
        assert api.get(path).status_code == 404, path
    assert api.get(f"/api/v1/forms/{form}/versions/1/xlsx").status_code == 404
    for path in (f"/collection/forms/{form}", f"/collection/forms/{form}/edit"):
        assert portal.get(path).status_code == 404, path
    assert portal.get(f"/collection/forms/{form}/versions/1/form.xlsx").status_code == 404
    mine = owner.client().get(f"/api/v1/forms/{form}/versions/1")
    assert mine.status_code == 200 and mine.json()["number"] == 1


def test_a_form_the_builder_cannot_hold_is_refused_as_a_workbook(shequyun_actors):
    bureau = shequyun_actors.bureau(PUDONG)
    api, portal = bureau.client(), bureau.portal()
    made = api.post("/api/v1/forms", json={"title": "引用", **WITH_REF})
    assert made.status_code == 201, made.text
    form = made.json()["id"]
    refused = api.get(f"/api/v1/forms/{form}/versions/1/xlsx")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "version"
    assert "无法写成 Excel" in refused.json()["error"]["message"]
    page = portal.get(f"/collection/forms/{form}/versions/1/form.xlsx")
    assert page.status_code == 404 and "无法写成 Excel" in page.text
