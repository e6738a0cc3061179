"""议事厅: who may vote, one ballot per voter under concurrency, closing and the recount."""

from __future__ import annotations

import threading

import pytest
from shequyun_interaction import deliberation
from shequyun_interaction.core import Viewer
from shequyun_interaction.models import Ballot
from sqlmodel import Session, select

from .conftest import API, WEIFANG1, WEIFANG2


def ballots(kernel, topic_id):
    with Session(kernel.engine) as session:
        return list(session.exec(select(Ballot).where(Ballot.topic_id == topic_id)))


def race(n, work):
    """Run ``work(i)`` in ``n`` threads released together; return their results or errors."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected, asserted by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def viewer_of(kernel, resident_id):
    with kernel.platform.session() as session:
        ref = kernel.platform.resident_refs(session, [resident_id])[resident_id]
    return Viewer(resident=ref)


def test_a_verified_resident_votes_once_and_may_change_their_vote(town, shequyun_kernel):
    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    first = wang.put(f"/topics/{topic['id']}/ballot", {"option": 0})
    assert first.status_code == 200, first.text
    changed = wang.put(f"/topics/{topic['id']}/ballot", {"option": 1})
    assert changed.json() == {"topic_id": topic["id"], "option": 1, "changes": 1}
    assert [b.option for b in ballots(shequyun_kernel, topic["id"])] == [1]
    seen = wang.get(f"/topics/{topic['id']}").json()
    assert seen["my_ballot"] == {"option": 1} and seen["ballots_cast"] == 1


def test_concurrent_double_votes_by_one_resident_count_once(town, shequyun_kernel):
    wang = town.resident("王秀英")
    topic = town.topic()
    viewer = viewer_of(shequyun_kernel, wang.id)
    results = race(
        8,
        lambda i: deliberation.cast_vote(shequyun_kernel.platform, topic["id"], viewer, i % 2),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(ballots(shequyun_kernel, topic["id"])) == 1


def test_concurrent_double_votes_through_the_api_count_once(town, shequyun_kernel):
    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    results = race(6, lambda i: wang.put(f"/topics/{topic['id']}/ballot", {"option": i % 2}))
    assert [r.status_code for r in results] == [200] * 6
    assert len(ballots(shequyun_kernel, topic["id"])) == 1


def test_two_members_of_one_household_count_once_under_the_household_rule(town, shequyun_kernel):
    husband = town.resident("刘建华", household="H-12-402", room="402")
    wife = town.resident("陈美玲", household="H-12-402", room="402")
    topic = town.topic(rule="household")
    viewers = [viewer_of(shequyun_kernel, r.id) for r in (husband, wife)]
    results = race(
        6,
        lambda i: deliberation.cast_vote(
            shequyun_kernel.platform, topic["id"], viewers[i % 2], i % 2
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    stored = ballots(shequyun_kernel, topic["id"])
    assert len(stored) == 1 and stored[0].voter_key.startswith("h")
    # Either member sees (and may change) the household's ballot.
    app = town.verified(wife)
    assert app.get(f"/topics/{topic['id']}").json()["my_ballot"] == {"option": stored[0].option}


def test_under_the_resident_rule_each_member_of_a_household_votes(town, shequyun_kernel):
    husband = town.verified(town.resident("刘建华", household="H-12-402", room="402"))
    wife = town.verified(town.resident("陈美玲", household="H-12-402", room="402"))
    topic = town.topic(rule="resident")
    for app in (husband, wife):
        assert app.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    assert len(ballots(shequyun_kernel, topic["id"])) == 2


def test_a_resident_outside_the_committee_can_neither_see_nor_vote(town):
    far = town.verified(town.resident("赵先生", unit=WEIFANG2))
    topic = town.topic(unit=WEIFANG1)
    assert far.get(f"/topics/{topic['id']}").status_code == 404
    assert far.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 404
    assert far.get("/topics").json()["items"] == []


def test_a_building_topic_is_for_that_buildings_residents(town):
    inside = town.verified(town.resident("王秀英", building="12"))
    outside = town.verified(town.resident("李建国", building="7"))
    topic = town.topic(scope_kind="buildings", buildings=[["潍坊一村", "12"]])
    assert inside.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    refused = outside.put(f"/topics/{topic['id']}/ballot", {"option": 0})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "您不在本议题的参与范围内"
    # Neighbours in the same committee may read it, but not vote.
    assert outside.get(f"/topics/{topic['id']}").json()["can_vote"] is False


def test_an_unverified_account_cannot_vote(town):
    wang = town.resident("王秀英")
    app = town.account(wang.phone)
    topic = town.topic()
    refused = app.put(f"/topics/{topic['id']}/ballot", {"option": 0})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_verified"
    assert app.get("/topics").json()["items"] == []


def test_minors_do_not_vote(town):
    child = town.verified(town.resident("王小明", born="20150601"))
    topic = town.topic()
    assert child.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 403


def test_a_moved_residents_vote_scope_follows_them(town, shequyun_kernel, drain_events):
    wang_record = town.resident("王秀英", unit=WEIFANG1)
    wang = town.verified(wang_record)
    here = town.topic(unit=WEIFANG1)
    there = town.topic(unit=WEIFANG2, title="二村停车位调整")
    assert wang.put(f"/topics/{here['id']}/ballot", {"option": 0}).status_code == 200
    assert wang.get(f"/topics/{there['id']}").status_code == 404

    town.transfer(wang_record, WEIFANG2)

    # Read afresh at each request: no event needs to have been delivered for this.
    assert wang.get("/me").json()["resident"]["committee"]["code"] == WEIFANG2
    assert wang.put(f"/topics/{here['id']}/ballot", {"option": 1}).status_code == 404
    assert wang.put(f"/topics/{there['id']}/ballot", {"option": 0}).status_code == 200
    # The resident.moved subscriber withdraws the ballot left behind and tells the resident.
    drain_events()
    assert ballots(shequyun_kernel, here["id"]) == []
    kinds = [n["kind"] for n in wang.get("/notifications").json()["items"]]
    assert "resident.moved" in kinds


def test_closing_publishes_result_and_turnout_and_the_recount_matches(town, shequyun_kernel):
    voters = [town.verified(town.resident(f"居民{i}", household=f"H-{i}")) for i in range(5)]
    town.resident("未投票者", household="H-x")
    town.resident("孩子", household="H-y", born="20180101")  # not in the electorate
    topic = town.topic(threshold="2/3")
    for app, option in zip(voters, [0, 0, 0, 0, 1], strict=True):
        assert app.put(f"/topics/{topic['id']}/ballot", {"option": option}).status_code == 200
    closed = town.client.post(f"{API}/manage/topics/{topic['id']}/close", headers=town.cadre().auth)
    assert closed.status_code == 200, closed.text
    result = closed.json()["result"]
    assert result["counts"] == [4, 1]
    assert result["ballots"] == 5 and result["electorate"] == 6
    assert result["turnout"] == pytest.approx(5 / 6, abs=1e-4)
    assert result["winner"] == 0 and result["passed"] is True  # 4 of 6 ≥ 2/3
    recount = town.client.get(
        f"{API}/manage/topics/{topic['id']}/recount", headers=town.cadre().auth
    ).json()
    assert recount["matches"] is True
    assert recount["recount"]["counts"] == result["counts"]
    # After closing nobody votes any more; residents see the result.
    late = voters[0].put(f"/topics/{topic['id']}/ballot", {"option": 1})
    assert late.status_code == 409
    assert voters[4].get(f"/topics/{topic['id']}").json()["result"]["counts"] == [4, 1]


def test_a_household_threshold_counts_the_buildings_households(town):
    topic_households = []
    for i in range(3):
        topic_households.append(
            town.verified(town.resident(f"住户{i}", building="12", household=f"H-12-{i}"))
        )
    town.resident("另一栋", building="7", household="H-7-1")
    topic = town.topic(
        rule="household",
        scope_kind="buildings",
        buildings=["潍坊一村|12"],
        threshold="2/3",
    )
    for app in topic_households[:2]:
        assert app.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    result = town.client.post(
        f"{API}/manage/topics/{topic['id']}/close", headers=town.cadre().auth
    ).json()["result"]
    assert result["electorate"] == 3 and result["counts"] == [2, 0] and result["passed"] is True


def test_secret_ballots_stay_secret_from_cadres(town):
    wang = town.verified(town.resident("王秀英"))
    open_topic = town.topic()
    secret_topic = town.topic(title="无记名表决", secret=True)
    for topic in (open_topic, secret_topic):
        assert wang.put(f"/topics/{topic['id']}/ballot", {"option": 1}).status_code == 200
    shown = town.client.get(
        f"{API}/manage/topics/{open_topic['id']}/ballots", headers=town.cadre().auth
    )
    assert [(b["resident"], b["option_label"]) for b in shown.json()["items"]] == [
        ("王秀英", "不同意")
    ]
    hidden = town.client.get(
        f"{API}/manage/topics/{secret_topic['id']}/ballots", headers=town.cadre().auth
    )
    assert hidden.status_code == 403
    assert hidden.json()["error"]["code"] == "secret_ballot"


def test_cadres_manage_only_their_own_committees_topics(town):
    topic = town.topic(unit=WEIFANG1)
    other = town.cadre(WEIFANG2)
    assert (
        town.client.post(f"{API}/manage/topics/{topic['id']}/close", headers=other.auth).status_code
        == 404
    )
    street = town.actors.street_admin("310115004000")
    assert town.client.post(f"{API}/manage/topics", headers=street.auth, json={}).status_code == 403


def test_opening_a_topic_names_every_bad_field(town):
    bad = town.client.post(
        f"{API}/manage/topics",
        headers=town.cadre().auth,
        json={
            "title": "",
            "options": ["同意"],
            "rule": "每人两票",
            "scope_kind": "buildings",
            "buildings": [["潍坊一村", "99"]],
            "threshold": "3/2",
            "closes_on": "2001-01-01",
        },
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"title", "body", "options", "rule", "buildings", "threshold", "closes_on"}


def test_a_cadre_votes_for_a_resident_in_assisted_mode_and_it_is_logged(town, shequyun_kernel):
    elder = town.resident("张阿婆", born="19380101")
    topic = town.topic()
    cadre = town.cadre()
    voted = town.client.put(
        f"{API}/topics/{topic['id']}/ballot",
        headers={**cadre.auth, "X-Assist-Resident": str(elder.id)},
        json={"option": 0},
    )
    assert voted.status_code == 200, voted.text
    [ballot] = ballots(shequyun_kernel, topic["id"])
    assert ballot.resident_id == elder.id and cadre.username in ballot.assisted_by
    admin = town.actors.platform_admin()
    log = town.client.get(
        "/api/v1/audit?action=interaction.assisted_vote", headers=admin.auth
    ).json()
    entry = log["items"][0]
    assert entry["actor_username"] == cadre.username
    assert "option" not in (entry.get("detail") or {})
    # A cadre of another committee cannot act for her.
    other = town.cadre(WEIFANG2)
    refused = town.client.put(
        f"{API}/topics/{topic['id']}/ballot",
        headers={**other.auth, "X-Assist-Resident": str(elder.id)},
        json={"option": 1},
    )
    assert refused.status_code == 404


def test_comments_carry_a_stance(town):
    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    said = wang.post(
        f"/topics/{topic['id']}/comments", {"stance": "反对", "body": "一楼住户采光受影响"}
    )
    assert said.status_code == 201, said.text
    bad = wang.post(f"/topics/{topic['id']}/comments", {"stance": "无所谓", "body": ""})
    assert bad.status_code == 422
    seen = wang.get(f"/topics/{topic['id']}").json()
    assert seen["stances"] == {"for": 0, "neutral": 0, "against": 1}
    assert seen["comments"][0]["author"] == "12号楼 王**"


def test_a_topic_closes_itself_at_its_deadline(town, shequyun_kernel):
    from datetime import UTC, datetime, timedelta

    from shequyun_interaction.models import Topic

    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    assert wang.put(f"/topics/{topic['id']}/ballot", {"option": 1}).status_code == 200
    with Session(shequyun_kernel.engine) as session:
        row = session.get(Topic, topic["id"])
        row.closes_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()
    assert wang.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 409
    seen = wang.get(f"/topics/{topic['id']}").json()
    assert seen["status"] == "closed" and seen["result"]["counts"] == [0, 1]
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Topic, topic["id"]).closed_by == "系统（到期）"


@pytest.mark.parametrize("option", ["²", "٣", str(2**70), 2**70])
def test_a_ballot_option_that_is_no_plain_number_is_a_422_naming_it(town, option):
    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    refused = wang.put(f"/topics/{topic['id']}/ballot", {"option": option})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "option"


@pytest.mark.parametrize("threshold", ["²/3", "1/٣", f"1/{2**70}"])
def test_a_threshold_that_is_no_plain_fraction_is_a_422_naming_it(town, threshold):
    body = {
        "title": "加装电梯",
        "body": "请表决",
        "options": ["同意", "不同意"],
        "rule": "resident",
        "scope_kind": "committee",
        "closes_on": "2099-12-31",
        "threshold": threshold,
    }
    refused = town.client.post(f"{API}/manage/topics", headers=town.cadre().auth, json=body)
    assert refused.status_code == 422, refused.text
    assert "threshold" in [d["field"] for d in refused.json()["error"]["details"]]


def test_turnout_and_the_threshold_show_while_open_and_abstaining_counts_only_there(
    town, shequyun_kernel
):
    wang = town.verified(town.resident("王秀英"))
    li = town.verified(town.resident("李建国"))
    zhang = town.verified(town.resident("张美华"))
    topic = town.topic(threshold="2/3", allow_abstain=True)
    assert wang.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    assert li.put(f"/topics/{topic['id']}/ballot", {"option": "abstain"}).status_code == 200
    standing = zhang.get(f"/topics/{topic['id']}").json()["standing"]
    assert standing["ballots"] == 2 and standing["abstained"] == 1
    assert standing["electorate"] >= 3
    assert standing["needed"] == -(-2 * standing["electorate"] // 3)
    closed = town.client.post(
        f"{API}/manage/topics/{topic['id']}/close", headers=town.cadre(WEIFANG1).auth
    )
    assert closed.status_code in (200, 201), closed.text
    result = wang.get(f"/topics/{topic['id']}").json()["result"]
    assert result["abstained"] == 1 and result["ballots"] == 2
    assert result["counts"] == [1, 0]
    assert result["passed"] is False  # one vote of at least three is not two thirds


def test_abstaining_is_refused_where_the_topic_does_not_allow_it(town):
    wang = town.verified(town.resident("王秀英"))
    topic = town.topic()
    refused = wang.put(f"/topics/{topic['id']}/ballot", {"option": "abstain"})
    assert refused.status_code in (400, 422)
    assert refused.json()["error"]["field"] == "option"
