"""Progress counts what the actor's scope reaches now, grouped as the campaign was sent.

``results.progress`` runs one statement built once per level and reach. These tests pin what
it counts for each kind of actor and after a committee moved between districts (its prepared
plan: tests/identity/test_scope_paths.py).
"""

from __future__ import annotations

from ._forms import COMMITTEE_COUNT, deadline

WANPING = "310104003001"  # 宛平南路居委会, 徐汇区天平路街道


def _campaign(client, bureau):
    form = client.post(
        "/api/v1/forms", json={"title": "居委基本情况", **COMMITTEE_COUNT}, headers=bureau.auth
    ).json()
    published = client.post(f"/api/v1/forms/{form['id']}/versions/1/publish", headers=bureau.auth)
    assert published.status_code == 200, published.text
    opened = client.post(
        "/api/v1/campaigns",
        json={
            "form_id": form["id"],
            "version": 1,
            "deadline": deadline(),
            "targets": ["310000000000"],
        },
        headers=bureau.auth,
    )
    assert opened.status_code == 201, opened.text
    return f"/api/v1/campaigns/{opened.json()['id']}"


def _submit(client, cadre, key):
    (task,) = client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    sent = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": key, "data": {"households": 300}},
    )
    assert sent.status_code == 201, sent.text


def _by_unit(report):
    return {g["unit"]["name"]: (g["expected"], g["submitted"]) for g in report["groups"]}


def test_each_level_counts_its_own_subtree_and_follows_a_moved_committee(
    shequyun_client, shequyun_actors
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    pudong = shequyun_actors.district_admin("310115000000")
    xuhui = shequyun_actors.district_admin("310104000000")
    street = shequyun_actors.street_admin("310115004000")
    url = _campaign(client, bureau)
    _submit(client, shequyun_actors.cadre("310115004001"), "progress-key-1")
    _submit(client, shequyun_actors.cadre(WANPING), "progress-key-2")

    def progress(actor, query="level=street"):
        answer = client.get(f"{url}/progress?{query}", headers=actor.auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert _by_unit(progress(bureau, "level=district")) == {"浦东新区": (3, 1), "徐汇区": (2, 1)}
    assert _by_unit(progress(pudong)) == {"潍坊新村街道": (2, 1), "陆家嘴街道": (1, 0)}
    assert _by_unit(progress(xuhui)) == {"天平路街道": (2, 1)}
    assert _by_unit(progress(street, "level=committee")) == {
        "潍坊一村居委会": (1, 1),
        "潍坊二村居委会": (1, 0),
    }
    assert _by_unit(progress(pudong, "level=committee&within=310115005000")) == {
        "梅园一村居委会": (1, 0)
    }

    # 宛平南路 moves to 浦东's 潍坊新村街道: 浦东 now sees its task (counted under the street
    # it was sent to), 徐汇 no longer does.
    moved = client.post(
        f"/api/v1/org-units/{WANPING}/move",
        json={"parent": "310115004000"},
        headers=shequyun_actors.platform_admin().auth,
    )
    assert moved.status_code == 200, moved.text
    assert _by_unit(progress(pudong)) == {
        "潍坊新村街道": (2, 1),
        "陆家嘴街道": (1, 0),
        "天平路街道": (1, 1),
    }
    assert progress(pudong)["total"]["expected"] == 4
    assert _by_unit(progress(xuhui)) == {"天平路街道": (1, 0)}
    assert _by_unit(progress(pudong, "level=committee&within=310115004000")) == {
        "潍坊一村居委会": (1, 1),
        "潍坊二村居委会": (1, 0),
        "宛平南路居委会": (1, 1),
    }
