"""Data quality (资料质量) through both doors: rules, confirmations, waivers.

Each is audited by :class:`~shequyun.quality.service.QualityService`; none touches the
resident's own history (the record's values do not change).
"""

from __future__ import annotations

from ..collection._forms import deadline
from ..residents._data import id_number, resident
from ._trail import Trail

PUDONG, WEIFANG = "310115000000", "310115004000"
W1, W2 = "310115004001", "310115004002"

ROUTES = [
    "POST /api/v1/quality/rules",
    "POST /api/v1/quality/residents/{resident_id}/confirm",
    "POST /api/v1/quality/residents/{resident_id}/waivers",
    "POST /quality/rules",
    "POST /quality/residents/{resident_id:int}/confirm",
    "POST /quality/residents/{resident_id:int}/waive",
    "POST /api/v1/quality/duplicates/{pair_id}/merge",
    "POST /api/v1/quality/merges/{merge_id}/undo",
    "POST /api/v1/quality/duplicates/{pair_id}/different",
    "POST /quality/duplicates/{number:int}",
    "POST /api/v1/quality/rounds",
    "POST /quality/rounds",
]
RULE = {
    "check": "age_over",
    "params": {"years": 100},
    "level": "warning",
    "title": "年龄超过 100 岁",
    "fix": "核对出生日期",
}


def test_quality_steps_leave_the_same_trail_through_both_doors(shequyun_kernel, shequyun_actors):
    district, cadre = shequyun_actors.district_admin(PUDONG), shequyun_actors.cadre(W1)
    admin_api, admin_portal = district.client(), district.portal()
    api, portal = cadre.client(), cadre.portal()
    wang = api.post("/api/v1/residents", json=resident(phone=None)).json()["id"]
    trail = Trail(shequyun_kernel)
    saved = [("quality.rule_saved", "quality_rule")]
    confirmed = [("quality.confirmed", "resident")]
    waived = [("quality.waived", "resident", {"rule": "missing_phone", "note": "老人没有电话"})]

    trail.step(
        "POST /api/v1/quality/rules",
        admin_api.post("/api/v1/quality/rules", json={"code": "pd_old", **RULE}),
        status=201,
        audit=saved,
    )
    trail.step(
        "POST /api/v1/quality/residents/{resident_id}/confirm",
        api.post(f"/api/v1/quality/residents/{wang}/confirm"),
        audit=confirmed,
    )
    trail.step(
        "POST /api/v1/quality/residents/{resident_id}/waivers",
        api.post(
            f"/api/v1/quality/residents/{wang}/waivers",
            json={"rule": "missing_phone", "note": "老人没有电话"},
        ),
        status=201,
        audit=waived,
    )
    trail.step(
        "POST /quality/rules",
        admin_portal.post(
            "/quality/rules",
            data={"code": "pd_older", **RULE, "params": '{"years": 105}'},
            follow_redirects=False,
        ),
        status=303,
        audit=saved,
    )
    trail.step(
        "POST /quality/residents/{resident_id:int}/confirm",
        portal.post(
            f"/quality/residents/{wang}/confirm", data={"next": "/quality"}, follow_redirects=False
        ),
        status=303,
        audit=confirmed,
    )
    trail.step(
        "POST /quality/residents/{resident_id:int}/waive",
        portal.post(
            f"/quality/residents/{wang}/waive",
            data={"rule": "missing_phone", "note": "老人没有电话", "next": "/quality"},
            follow_redirects=False,
        ),
        status=303,
        audit=waived,
    )
    trail.check_walked(ROUTES[:6])


def pair_of(client, first: int, second: int) -> int:
    pairs = client.get("/api/v1/quality/duplicates").json()["pairs"]
    return next(p["id"] for p in pairs if {r["id"] for r in p["residents"]} == {first, second})


def test_duplicates_are_merged_undone_and_set_apart_through_both_doors(
    shequyun_kernel, shequyun_actors
):
    one, two = shequyun_actors.cadre(W1).client(), shequyun_actors.cadre(W2).client()
    street = shequyun_actors.street_admin(WEIFANG)
    api, portal = street.client(), street.portal()

    def twins(name: str, born: str, serial: int) -> tuple[int, int]:
        first = one.post(
            "/api/v1/residents",
            json=resident(name=name, id_number=id_number(born=born, serial=f"{serial}1")),
        )
        second = two.post(
            "/api/v1/residents",
            json=resident(name=name, id_number=id_number(born=born, serial=f"{serial}3")),
        )
        return first.json()["id"], second.json()["id"]

    pairs = [twins("周重复", "19560101", 50), twins("冯重复", "19660606", 60)]
    pairs.append(twins("吴重复", "19700303", 70))
    one.post("/api/v1/residents", json=resident(id_number=id_number(serial="801"), phone=None))
    shequyun_kernel.quality.duplicates.find()
    shequyun_kernel.quality.scan()
    ids = [pair_of(api, *p) for p in pairs]
    trail = Trail(shequyun_kernel)
    merge = trail.step(
        "POST /api/v1/quality/duplicates/{pair_id}/merge",
        api.post(f"/api/v1/quality/duplicates/{ids[0]}/merge", json={"keep": pairs[0][0]}),
        status=201,
        audit=[("quality.merged", "resident")],
        history={"resident": 3},
    ).json()["merge"]["id"]
    trail.step(
        "POST /api/v1/quality/merges/{merge_id}/undo",
        api.post(f"/api/v1/quality/merges/{merge}/undo"),
        audit=[("quality.merge_undone", "resident")],
        history={"resident": 3},
    )
    trail.step(
        "POST /api/v1/quality/duplicates/{pair_id}/different",
        api.post(f"/api/v1/quality/duplicates/{ids[1]}/different"),
        audit=[("quality.not_duplicate", "duplicate")],
    )
    trail.step(
        "POST /quality/duplicates/{number:int}",
        portal.post(
            f"/quality/duplicates/{ids[2]}",
            data={"action": "merge", "keep": str(pairs[2][0])},
            follow_redirects=False,
        ),
        status=303,
        audit=[("quality.merged", "resident")],
        history={"resident": 3},
    )
    trail.step(
        "POST /api/v1/quality/rounds",
        api.post(
            "/api/v1/quality/rounds",
            json={"rules": ["missing_phone"], "deadline": deadline(), "title": "冬季核对"},
        ),
        status=201,
        audit=[  # the round is a roster campaign, opened through the collection services
            ("collection.form_created", "form"),
            ("collection.form_published", "form"),
            ("collection.campaign_opened", "campaign"),
            ("quality.round_started", "quality_round"),
        ],
    )
    trail.step(
        "POST /quality/rounds",
        portal.post(
            "/quality/rounds",
            data={"rules": ["missing_phone"], "deadline": "2030-12-01", "title": "春季核对"},
            follow_redirects=False,
        ),
        status=303,
        audit=[
            ("collection.form_created", "form"),
            ("collection.form_published", "form"),
            ("collection.campaign_opened", "campaign"),
            ("quality.round_started", "quality_round"),
        ],
    )
    trail.check_walked(ROUTES[6:])
