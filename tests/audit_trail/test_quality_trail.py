"""Data quality (资料质量) through both doors: rules, confirmations, waivers.

Each is audited by :class:`~shequyun.quality.service.QualityService`; none touches the
resident's own history (the record's values do not change).
"""

from __future__ import annotations

from ..residents._data import resident
from ._trail import Trail

PUDONG, W1 = "310115000000", "310115004001"

ROUTES = [
    "POST /api/v1/quality/rules",
    "POST /api/v1/quality/residents/{resident_id}/confirm",
    "POST /api/v1/quality/residents/{resident_id}/waivers",
    "POST /quality/rules",
    "POST /quality/residents/{resident_id:int}/confirm",
    "POST /quality/residents/{resident_id:int}/waive",
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
    waived = [("quality.waived", "resident")]

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
    trail.check_walked(ROUTES)
