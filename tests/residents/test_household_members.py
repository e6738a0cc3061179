"""A resident's page names the other registered members of their household
(:meth:`~shequyun.residents.service.ResidentService.household_members`)."""

from __future__ import annotations

from ._data import id_number, resident

W1 = "310115004001"


def test_the_page_names_the_other_members_of_the_household(shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    api, portal = cadre.client(), cadre.portal()
    wang = api.post("/api/v1/residents", json=resident()).json()
    li = api.post(
        "/api/v1/residents", json=resident(name="李建国", id_number=id_number(born="19440101"))
    ).json()
    gone = api.post(
        "/api/v1/residents", json=resident(name="赵桂兰", id_number=id_number(born="19200101"))
    ).json()
    alone = api.post(
        "/api/v1/residents",
        json=resident(
            name="钱小明",
            id_number=id_number(born="19800101"),
            household_number="W-0501",
            address={"compound": "潍坊一村", "building": "12", "entrance": "3", "room": "501"},
        ),
    ).json()
    removed = api.request(
        "DELETE", f"/api/v1/residents/{gone['id']}", json={"version": 1, "reason": "已故"}
    )
    assert removed.is_success, removed.text

    page = portal.get(f"/residents/{wang['id']}").text
    assert f'<a href="/residents/{li["id"]}">李建国</a>' in page
    assert "赵桂兰" not in page and "钱小明" not in page  # removed; another household
    assert f'href="/residents/{wang["id"]}">' not in page.split("同户")[1].split("</dd>")[0]
    assert "同户" not in portal.get(f"/residents/{alone['id']}").text
