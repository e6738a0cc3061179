"""Every state-changing route of 居社互动, API and pages, and the audit entries each one leaves.

What staff do is audited by the service function both doors call: a reply to or an escalation
of a resident's request, moderation, opening and closing a topic, a verification code, an
announcement and its withdrawal, a disclosure and its revision, and anything done while
assisting a resident (代办). What a resident does for themselves — signing up and in, proving
who they are, a request, a photo, a vote, a comment, a post, a report, reading notifications —
is their own business and leaves no entry (a ballot may be secret): the steps say so, and fail
if that changes. The SMS code a resident's phone is sent, and its confirmation, are audited
without a staff actor. A new POST, PUT, PATCH or DELETE route fails
``test_every_state_changing_route_has_a_step`` until a step here says what it leaves.
"""

from __future__ import annotations

import shequyun_interaction
from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes
from starlette.testclient import TestClient

from ._files import png
from .conftest import API, PASSWORD, WEIFANG1
from .test_pages import submit

BASE = "/plugins/interaction"
ACCOUNT_ROUTES = [
    f"POST {API}/auth/signup",
    f"POST {API}/auth/login",
    f"POST {API}/me/verify",
    f"POST {API}/auth/logout",
]
#: Walked in test_phone_proof (they need the SMS setting and a gateway).
PHONE_ROUTES = [
    f"POST {API}/auth/phone/confirm",
    f"POST {API}/auth/phone/resend",
    f"POST {BASE}/phone",
]
#: 忘记密码: walked in test_password_reset, the SMS ones in test_password_reset_sms.
PASSWORD_ROUTES = [f"POST {API}/auth/password/reset", f"POST {BASE}/password"]
PASSWORD_SMS_ROUTES = [
    f"POST {API}/auth/password/sms",
    f"POST {API}/auth/password/reset-sms",
    f"POST {BASE}/password/sms",
]
RESIDENT_ROUTES = [
    f"POST {API}/requests",
    f"POST {API}/requests/{{item_id:int}}/replies",
    f"POST {API}/requests/{{item_id:int}}/photos",
    f"PUT {API}/topics/{{item_id:int}}/ballot",
    f"POST {API}/topics/{{item_id:int}}/comments",
    f"POST {API}/posts",
    f"POST {API}/posts/{{item_id:int}}/comments",
    f"POST {API}/reports",
    f"POST {API}/notifications/read",
]
STAFF_ROUTES = [
    f"POST {API}/manage/topics",
    f"POST {API}/manage/topics/{{item_id:int}}/close",
    f"POST {API}/manage/requests/{{item_id:int}}/replies",
    f"POST {API}/manage/requests/{{item_id:int}}/escalate",
    f"POST {API}/manage/moderation/{{target_type}}/{{item_id:int}}",
    f"POST {API}/manage/codes",
    f"POST {API}/manage/announcements",
    f"POST {API}/manage/announcements/{{item_id:int}}/withdraw",
    f"POST {API}/manage/disclosures",
    f"PATCH {API}/manage/disclosures/{{item_id:int}}",
    f"POST {API}/manage/digests",
]
PAGE_ROUTES = [
    f"POST {BASE}/signup",
    f"POST {BASE}/login",
    f"POST {BASE}/logout",
    f"POST {BASE}/verify",
    f"POST {BASE}/notifications",
    f"POST {BASE}/topics/{{item_id:int}}",
    f"POST {BASE}/posts",
    f"POST {BASE}/requests",
    f"POST {BASE}/requests/{{item_id:int}}",
    f"POST {BASE}/manage/announcements",
    f"POST {BASE}/manage/disclosures",
    f"POST {BASE}/manage/disclosures/{{item_id:int}}",
    f"POST {BASE}/manage/requests/{{item_id:int}}",
    f"POST {BASE}/manage/topics",
    f"POST {BASE}/manage/topics/{{item_id:int}}",
    f"POST {BASE}/manage/moderation",
    f"POST {BASE}/manage/codes",
    f"POST {BASE}/manage/assist",
]
DETAIL = {
    "interaction.topic_opened": [{"title", "rule", "scope"}],
    "interaction.topic_closed": [{"counts", "ballots", "electorate", "passed"}],
    "interaction.request_replied": [{"status"}],
    "interaction.request_escalated": [set()],
    "interaction.moderated": [{"decision", "note"}],
    "interaction.code_issued": [{"expires_at"}],
    "interaction.announcement_published": [{"title", "attachments"}],
    "interaction.announcement_withdrawn": [{"attachments_restricted"}],
    "interaction.disclosed": [{"category", "title", "attachments"}],
    "interaction.disclosure_revised": [{"version", "note", "attachments"}],
    "interaction.assist_started": [set()],
    "interaction.assist_ended": [set()],
    "interaction.content_hidden": [{"reports"}],
    "interaction.assisted_vote": [{"resident_id"}],
    "interaction.assisted_comment": [{"resident_id"}],
    "interaction.assisted_request": [{"resident_id", "category"}],
    "interaction.assisted_photos": [{"resident_id", "photos"}],
    "interaction.phone_code_sent": [{"purpose", "phone"}],
    "interaction.phone_confirmed": [{"phone"}],
    "interaction.account_verified": [{"resident_id", "committee", "via"}],
    "interaction.password_reset": [{"via", "phone"}],
}
#: Written for a resident's own account (phone, the link to a resident's record), with no staff
#: member acting.
UNATTRIBUTED = (
    "interaction.phone_code_sent",
    "interaction.phone_confirmed",
    "interaction.account_verified",
    "interaction.password_reset",  # by whoever held the code: a committee's, or the SMS
    "interaction.content_hidden",  # by the rule: enough residents reported it
)


def test_every_state_changing_route_has_a_step(shequyun_app):
    walked = {
        *ACCOUNT_ROUTES,
        *PHONE_ROUTES,
        *PASSWORD_ROUTES,
        *PASSWORD_SMS_ROUTES,
        *RESIDENT_ROUTES,
        *STAFF_ROUTES,
        *PAGE_ROUTES,
    }
    assert state_changing_routes(shequyun_app, "interaction") == walked


def trail_for(town) -> AuditTrail:
    return AuditTrail(
        town.client,
        town.actors.platform_admin().auth,
        detail=DETAIL,
        manifest=shequyun_interaction.MANIFEST,
        unattributed=UNATTRIBUTED,
    )


def test_a_residents_own_writes_leave_no_entry(town):
    zhang = town.resident("张伟")
    neighbour = town.verified(town.resident("李娜", room="702"))
    topic = town.topic()
    trail = trail_for(town)
    client = town.client

    trail.step(
        f"POST {API}/auth/signup",
        client.post(
            f"{API}/auth/signup", json={"phone": zhang.phone, "password": "Resident-pass-1"}
        ),
        status=201,
        audit=[],
    )
    login = trail.step(
        f"POST {API}/auth/login",
        client.post(
            f"{API}/auth/login", json={"phone": zhang.phone, "password": "Resident-pass-1"}
        ),
        audit=[],
    )
    headers = {"X-Resident-Token": login.json()["token"]}
    trail.step(
        f"POST {API}/me/verify",
        client.post(
            f"{API}/me/verify",
            json={"name": zhang.name, "id_number": zhang.id_number},
            headers=headers,
        ),
        # Linking the account to a resident's record is what lets it act as that resident.
        audit=[
            (
                "interaction.account_verified",
                "interaction_account",
                {"resident_id": zhang.id, "via": "identity"},
            )
        ],
    )

    def post(path, body=None, **kwargs):
        return client.post(API + path, json=body, headers=headers, **kwargs)

    request = trail.step(
        f"POST {API}/requests",
        post("/requests", {"category": "报修", "title": "楼道灯不亮", "body": "12号楼二楼"}),
        status=201,
        audit=[],
    ).json()
    trail.step(
        f"POST {API}/requests/{{item_id:int}}/replies",
        post(f"/requests/{request['id']}/replies", {"body": "晚上更暗"}),
        status=201,
        audit=[],
    )
    trail.step(
        f"POST {API}/requests/{{item_id:int}}/photos",
        client.post(
            f"{API}/requests/{request['id']}/photos",
            headers=headers,
            files={"photos": ("现场.png", png(), "image/png")},
        ),
        status=(200, 201),
        audit=[],
    )
    trail.step(
        f"PUT {API}/topics/{{item_id:int}}/ballot",
        client.put(f"{API}/topics/{topic['id']}/ballot", json={"option": 0}, headers=headers),
        audit=[],
    )
    trail.step(
        f"POST {API}/topics/{{item_id:int}}/comments",
        post(f"/topics/{topic['id']}/comments", {"stance": "支持", "body": "早该装了"}),
        status=201,
        audit=[],
    )
    made = trail.step(
        f"POST {API}/posts",
        post("/posts", {"body": "周六上午小区义剪"}),
        status=201,
        audit=[],
    ).json()
    trail.step(
        f"POST {API}/posts/{{item_id:int}}/comments",
        neighbour.post(f"/posts/{made['id']}/comments", {"body": "几点开始？"}),
        status=201,
        audit=[],
    )
    trail.step(
        f"POST {API}/reports",
        neighbour.post(
            "/reports", {"target_type": "post", "target_id": made["id"], "reason": "广告"}
        ),
        status=(200, 201),
        audit=[],
    )
    trail.step(f"POST {API}/notifications/read", post("/notifications/read"), status=204, audit=[])
    trail.step(f"POST {API}/auth/logout", post("/auth/logout"), status=(200, 204), audit=[])
    trail.check_walked([*ACCOUNT_ROUTES, *RESIDENT_ROUTES])


def test_the_report_that_hides_an_item_leaves_an_entry(town):
    author = town.verified(town.resident("王秀英"))
    reporters = [
        town.verified(town.resident(n, room=r))
        for n, r in (("赵强", "802"), ("钱芳", "803"), ("孙磊", "804"))
    ]
    post = author.post("/posts", {"body": "出售二手自行车"}).json()
    trail = trail_for(town)
    report = {"target_type": "post", "target_id": post["id"], "reason": "广告"}
    for reporter in reporters[:2]:  # under the threshold (3): still visible, nothing to audit
        trail.step(
            f"POST {API}/reports", reporter.post("/reports", report), status=(200, 201), audit=[]
        )
    trail.step(
        f"POST {API}/reports",
        reporters[2].post("/reports", report),
        status=(200, 201),
        audit=[("interaction.content_hidden", "interaction_post", {"reports": 3})],
    )


def test_staff_writes_are_audited(town):
    cadre = town.cadre()
    admin = town.actors.platform_admin()
    wang = town.verified(town.resident("王秀英"))
    voter = town.verified(town.resident("赵强", room="802"))
    li = town.resident("李建国", room="902")
    request = wang.post("/requests", {"category": "报修", "title": "路灯坏了", "body": "弄堂口"})
    second = wang.post("/requests", {"category": "help", "title": "需要助餐", "body": "独居"})
    post = wang.post("/posts", {"body": "出售二手自行车"}).json()
    for app in (voter,):
        app.post("/reports", {"target_type": "post", "target_id": post["id"]})
    trail = trail_for(town)
    client = town.client

    def manage(method, path, body=None):
        return client.request(method, f"{API}/manage{path}", json=body, headers=cadre.auth)

    topic = trail.step(
        f"POST {API}/manage/topics",
        manage(
            "POST",
            "/topics",
            {
                "title": "车棚改造意见征询",
                "body": "请各户表决",
                "options": ["同意", "不同意"],
                "rule": "resident",
                "scope_kind": "committee",
                "closes_on": "2099-12-31",
            },
        ),
        status=201,
        audit=[("interaction.topic_opened", "interaction_topic", {"rule": "resident"})],
    ).json()
    assert voter.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    trail.mark()
    trail.step(
        f"POST {API}/manage/topics/{{item_id:int}}/close",
        manage("POST", f"/topics/{topic['id']}/close"),
        audit=[("interaction.topic_closed", "interaction_topic", {"ballots": 1})],
    )
    trail.step(
        f"POST {API}/manage/requests/{{item_id:int}}/replies",
        manage(
            "POST",
            f"/requests/{request.json()['id']}/replies",
            {"body": "已通知物业", "status": "in_progress"},
        ),
        status=201,
        audit=[("interaction.request_replied", "interaction_request", {"status": "in_progress"})],
    )
    trail.step(
        f"POST {API}/manage/requests/{{item_id:int}}/escalate",
        manage("POST", f"/requests/{second.json()['id']}/escalate", {}),
        status=(200, 201),
        audit=[("interaction.request_escalated", "interaction_request")],
    )
    trail.step(
        f"POST {API}/manage/moderation/{{target_type}}/{{item_id:int}}",
        manage("POST", f"/moderation/post/{post['id']}", {"decision": "remove", "note": "广告"}),
        status=201,
        audit=[("interaction.moderated", "interaction_post", {"decision": "remove"})],
    )
    trail.step(
        f"POST {API}/manage/codes",
        manage("POST", "/codes", {"resident_id": li.id}),
        status=201,
        audit=[("interaction.code_issued", "resident")],
    )
    announcement = trail.step(
        f"POST {API}/manage/announcements",
        manage("POST", "/announcements", {"title": "停水通知", "body": "周三停水"}),
        status=201,
        audit=[("interaction.announcement_published", "interaction_announcement")],
    ).json()
    trail.step(
        f"POST {API}/manage/announcements/{{item_id:int}}/withdraw",
        manage("POST", f"/announcements/{announcement['id']}/withdraw"),
        audit=[("interaction.announcement_withdrawn", "interaction_announcement")],
    )
    disclosure = trail.step(
        f"POST {API}/manage/disclosures",
        manage("POST", "/disclosures", {"category": "works", "title": "车棚改造", "body": "预算"}),
        status=201,
        audit=[("interaction.disclosed", "interaction_disclosure", {"category": "works"})],
    ).json()
    revised = trail.step(
        f"PATCH {API}/manage/disclosures/{{item_id:int}}",
        manage(
            "PATCH",
            f"/disclosures/{disclosure['id']}",
            {"category": "works", "title": "车棚改造", "body": "已开工", "note": "开工"},
        ),
        audit=[("interaction.disclosure_revised", "interaction_disclosure", {"version": 2})],
    ).json()
    # The disclosure's history (kept beside the audit log) holds the revision too.
    assert sorted(h["version"] for h in revised["history"]) == [1, 2]
    # Sending the due digests now (what the scheduled job does) changes nobody's data.
    trail.step(
        f"POST {API}/manage/digests",
        client.post(f"{API}/manage/digests", headers=admin.auth),
        audit=[],
    )
    trail.check_walked(STAFF_ROUTES)


def test_assisted_writes_are_audited_against_the_cadre(town):
    """代办: a cadre acting for a resident (``X-Assist-Resident``) is audited, never the choice."""
    elder = town.resident("张阿婆", born="19380101")
    topic = town.topic()
    cadre = town.cadre()
    trail = trail_for(town)
    client = town.client
    assisting = {**cadre.auth, "X-Assist-Resident": str(elder.id)}
    trail.step(
        f"PUT {API}/topics/{{item_id:int}}/ballot",
        client.put(f"{API}/topics/{topic['id']}/ballot", json={"option": 0}, headers=assisting),
        audit=[("interaction.assisted_vote", "interaction_topic", {"resident_id": elder.id})],
    )
    trail.step(
        f"POST {API}/topics/{{item_id:int}}/comments",
        client.post(
            f"{API}/topics/{topic['id']}/comments",
            json={"stance": "支持", "body": "方便老人"},
            headers=assisting,
        ),
        status=201,
        audit=[("interaction.assisted_comment", "interaction_topic", {"resident_id": elder.id})],
    )
    request = trail.step(
        f"POST {API}/requests",
        client.post(
            f"{API}/requests",
            json={"category": "help", "title": "需要助餐", "body": "行动不便"},
            headers=assisting,
        ),
        status=201,
        audit=[("interaction.assisted_request", "interaction_request", {"resident_id": elder.id})],
    ).json()
    trail.step(
        f"POST {API}/requests/{{item_id:int}}/photos",
        client.post(
            f"{API}/requests/{request['id']}/photos",
            headers=assisting,
            files={"photos": ("门口.png", png(), "image/png")},
        ),
        status=(200, 201),
        audit=[("interaction.assisted_photos", "interaction_request", {"photos": 1})],
    )


def test_the_residents_pages_leave_no_entry(town):
    wang = town.resident("王秀英")
    topic = town.topic()
    neighbour = town.verified(town.resident("李娜", room="702"))
    neighbour.post("/posts", {"body": "周六义剪"})
    trail = trail_for(town)
    browser = TestClient(town.client.app)

    def step(route, path, data, *, page=None, status=303):
        return trail.step(route, submit(browser, path, data, page), status=status, audit=[])

    step(
        f"POST {BASE}/signup",
        f"{BASE}/signup",
        {"phone": wang.phone, "password": PASSWORD, "password2": PASSWORD},
    )
    trail.step(
        f"POST {BASE}/verify",
        submit(
            browser,
            f"{BASE}/verify",
            {"method": "identity", "name": wang.name, "id_number": wang.id_number},
            None,
        ),
        status=303,
        audit=[
            (
                "interaction.account_verified",
                "interaction_account",
                {"resident_id": wang.id, "via": "identity"},
            )
        ],
    )
    step(f"POST {BASE}/topics/{{item_id:int}}", f"{BASE}/topics/{topic['id']}", {"option": "0"})
    step(f"POST {BASE}/posts", f"{BASE}/posts", {"action": "post", "body": "谁家的猫走丢了"})
    made = step(
        f"POST {BASE}/requests",
        f"{BASE}/requests",
        {"category": "报修", "title": "楼道灯不亮", "body": "二楼"},
    )
    step(
        f"POST {BASE}/requests/{{item_id:int}}",
        made.headers["location"].split("?")[0],
        {"body": "三楼也不亮"},
    )
    step(f"POST {BASE}/notifications", f"{BASE}/notifications", {})
    step(f"POST {BASE}/logout", f"{BASE}/logout", {}, page=f"{BASE}/")
    step(f"POST {BASE}/login", f"{BASE}/login", {"phone": wang.phone, "password": PASSWORD})
    trail.check_walked([r for r in PAGE_ROUTES if "/manage/" not in r])


def test_the_cadres_pages_leave_the_same_entries_as_the_api(town):
    cadre = town.cadre()
    wang = town.verified(town.resident("王秀英"))
    li = town.resident("李建国", room="902")
    elder = town.resident("张阿婆", born="19380101", room="1002")
    first = wang.post("/requests", {"category": "报修", "title": "路灯坏了", "body": "弄堂口"})
    second = wang.post("/requests", {"category": "help", "title": "需要助餐", "body": "独居"})
    post = wang.post("/posts", {"body": "出售二手自行车"}).json()
    town.verified(town.resident("赵强", room="802")).post(
        "/reports", {"target_type": "post", "target_id": post["id"]}
    )
    disclosed = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre.auth,
        json={"category": "works", "title": "车棚改造", "body": "预算"},
    ).json()
    portal = cadre.portal()
    trail = trail_for(town)

    def step(route, path, data, audit):
        return trail.step(
            route, portal.post(path, data=data, follow_redirects=False), status=303, audit=audit
        )

    step(
        f"POST {BASE}/manage/announcements",
        f"{BASE}/manage/announcements",
        {"title": "停水通知", "body": "周三停水"},
        [("interaction.announcement_published", "interaction_announcement")],
    )
    listed = town.client.get(f"{API}/announcements?unit={WEIFANG1}", headers=cadre.auth).json()[
        "items"
    ]
    trail.mark()
    step(
        f"POST {BASE}/manage/announcements",
        f"{BASE}/manage/announcements",
        {"action": "withdraw", "id": str(listed[0]["id"])},
        [("interaction.announcement_withdrawn", "interaction_announcement")],
    )
    step(
        f"POST {BASE}/manage/disclosures",
        f"{BASE}/manage/disclosures",
        {"category": "finance", "title": "一季度收支", "body": "收支明细"},
        [("interaction.disclosed", "interaction_disclosure", {"category": "finance"})],
    )
    step(
        f"POST {BASE}/manage/disclosures/{{item_id:int}}",
        f"{BASE}/manage/disclosures/{disclosed['id']}",
        {"category": "works", "title": "车棚改造", "body": "已开工", "note": "开工"},
        [("interaction.disclosure_revised", "interaction_disclosure", {"version": 2})],
    )
    step(
        f"POST {BASE}/manage/requests/{{item_id:int}}",
        f"{BASE}/manage/requests/{first.json()['id']}",
        {"body": "已通知物业", "status": "in_progress"},
        [("interaction.request_replied", "interaction_request", {"status": "in_progress"})],
    )
    step(
        f"POST {BASE}/manage/requests/{{item_id:int}}",
        f"{BASE}/manage/requests/{second.json()['id']}",
        {"action": "escalate"},
        [("interaction.request_escalated", "interaction_request")],
    )
    opened = step(
        f"POST {BASE}/manage/topics",
        f"{BASE}/manage/topics",
        {
            "title": "车棚改造意见征询",
            "body": "请各户表决",
            "options": "同意\n不同意",
            "rule": "resident",
            "scope_kind": "committee",
            "closes_on": "2099-12-31",
        },
        [("interaction.topic_opened", "interaction_topic", {"rule": "resident"})],
    )
    step(
        f"POST {BASE}/manage/topics/{{item_id:int}}",
        opened.headers["location"].split("?")[0],
        {},
        [("interaction.topic_closed", "interaction_topic", {"ballots": 0})],
    )
    step(
        f"POST {BASE}/manage/moderation",
        f"{BASE}/manage/moderation",
        {"target_type": "post", "target_id": str(post["id"]), "decision": "remove", "note": "广告"},
        [("interaction.moderated", "interaction_post", {"decision": "remove"})],
    )
    trail.step(
        f"POST {BASE}/manage/codes",
        portal.post(f"{BASE}/manage/codes", data={"resident_id": str(li.id)}),
        audit=[("interaction.code_issued", "resident")],
    )
    step(
        f"POST {BASE}/manage/assist",
        f"{BASE}/manage/assist",
        {"resident_id": str(elder.id)},
        [("interaction.assist_started", "resident")],
    )
    step(
        f"POST {BASE}/manage/assist",
        f"{BASE}/manage/assist",
        {"action": "end"},
        [("interaction.assist_ended", "resident")],
    )
    trail.check_walked([r for r in PAGE_ROUTES if "/manage/" in r])
