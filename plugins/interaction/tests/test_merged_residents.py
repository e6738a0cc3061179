"""A resident's account follows their record when data quality merges two records of them."""

from __future__ import annotations

from shequyun_interaction.models import Account, Ballot
from sqlmodel import Session, select

from .conftest import WEIFANG1


def _account_owner(kernel, account_phone: str) -> int | None:
    with Session(kernel.engine) as session:
        account = session.exec(
            select(Account).where(Account.phone_hash == kernel.platform.lookup_hash(account_phone))
        ).one()
        return account.resident_id


def test_the_account_moves_with_the_merge_and_back_with_the_undo(
    town, shequyun_kernel, shequyun_actors
):
    old = town.resident("陈合并", unit=WEIFANG1, phone="13900007777")
    town.verified(old)
    new = town.resident("陈合并", unit="310115004002", phone="13900007777")
    shequyun_kernel.quality.duplicates.find()
    district = shequyun_actors.district_admin("310115000000")
    client = town.client
    pairs = client.get("/api/v1/quality/duplicates", headers=district.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {old.id, new.id}]

    merged = client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": new.id},
        headers=district.auth,
    )  # fmt: skip
    assert merged.status_code == 201, merged.text
    assert _account_owner(shequyun_kernel, old.phone) == new.id
    assert "interaction" in merged.json()["merge"]["moved"]["plugins"]

    undone = client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=district.auth
    )
    assert undone.status_code == 200, undone.text
    assert _account_owner(shequyun_kernel, old.phone) == old.id


def _merge(town, kernel, actors, keep, other):
    kernel.quality.duplicates.find()
    street = actors.street_admin("310115004000")
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {keep.id, other.id}]
    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge",
        json={"keep": keep.id},
        headers=street.auth,
    )
    assert merged.status_code == 201, merged.text
    return lambda: town.client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth
    )


def _ballots(kernel, topic_id):
    with Session(kernel.engine) as session:
        return sorted(
            (b.resident_id, b.option)
            for b in session.exec(select(Ballot).where(Ballot.topic_id == topic_id))
        )


def test_what_the_person_did_follows_their_account_to_the_kept_record_and_back(
    town, shequyun_kernel, shequyun_actors
):
    old = town.resident("陈合并")
    app = town.verified(old)
    asked = app.post("/requests", {"category": "help", "title": "求助", "body": "需要轮椅"}).json()
    topic = town.topic()
    assert app.put(f"/topics/{topic['id']}/ballot", {"option": 0}).status_code == 200
    town.resident("李建国")  # a neighbour registered in between
    new = town.resident("陈合并")  # the same person, registered again

    undo = _merge(town, shequyun_kernel, shequyun_actors, keep=new, other=old)
    assert app.get("/me").json()["resident"]["id"] == new.id
    assert [r["id"] for r in app.get("/requests").json()["items"]] == [asked["id"]]
    assert app.get(f"/topics/{topic['id']}").json()["my_ballot"] == {"option": 0}
    assert _ballots(shequyun_kernel, topic["id"]) == [(new.id, 0)]

    assert undo().status_code == 200
    assert app.get("/me").json()["resident"]["id"] == old.id
    assert [r["id"] for r in app.get("/requests").json()["items"]] == [asked["id"]]
    assert _ballots(shequyun_kernel, topic["id"]) == [(old.id, 0)]


def test_one_person_two_ballots_on_an_open_topic_count_once_until_the_undo(
    town, shequyun_kernel, shequyun_actors
):
    old = town.resident("陈合并")
    town.resident("李建国")
    new = town.resident("陈合并")
    topic = town.topic()
    town.verified(old).put(f"/topics/{topic['id']}/ballot", {"option": 0})
    town.verified(new).put(f"/topics/{topic['id']}/ballot", {"option": 1})

    undo = _merge(town, shequyun_kernel, shequyun_actors, keep=new, other=old)
    assert _ballots(shequyun_kernel, topic["id"]) == [(new.id, 1)]  # the kept record's vote

    assert undo().status_code == 200
    assert _ballots(shequyun_kernel, topic["id"]) == [(old.id, 0), (new.id, 1)]


def test_a_person_who_signed_up_twice_signs_in_with_either_phone_after_the_merge(
    town, shequyun_kernel, shequyun_actors
):
    # Registered twice, in two committees, with two phones; an account verified on each.
    old = town.resident("陈两号", unit="310115004002")
    old_app = town.verified(old)
    asked = old_app.post("/requests", {"category": "help", "title": "求助", "body": "换灯泡"})
    town.resident("李建国")  # a neighbour registered in between
    new = town.resident("陈两号")
    new_app = town.verified(new)
    assert asked.status_code == 201, asked.text

    undo = _merge(town, shequyun_kernel, shequyun_actors, keep=new, other=old)
    # Both phones still sign in, to one person with everything they did under either record.
    for app in (old_app, new_app):
        me = app.get("/me").json()["resident"]
        assert me["id"] == new.id
        assert [r["id"] for r in app.get("/requests").json()["items"]] == [asked.json()["id"]]
    street = shequyun_actors.street_admin("310115004000")
    share = town.client.get(
        "/api/v1/indicators/units/310115004000/interaction.verified_share", headers=street.auth
    ).json()["indicator"]["unit"]
    assert (share["value"], share["base"]) == (1, 2)  # one person, two accounts: counted once
    with Session(shequyun_kernel.engine) as session:
        hints = {
            a.unit_hint for a in session.exec(select(Account).where(Account.resident_id == new.id))
        }
        assert hints == {
            shequyun_kernel.platform.resident_refs(session, [new.id])[new.id].committee.id
        }

    assert undo().status_code == 200
    assert old_app.get("/me").json()["resident"]["id"] == old.id
    assert new_app.get("/me").json()["resident"]["id"] == new.id
    assert [r["id"] for r in old_app.get("/requests").json()["items"]] == [asked.json()["id"]]
    assert new_app.get("/requests").json()["items"] == []
    with Session(shequyun_kernel.engine) as session:
        [account] = session.exec(select(Account).where(Account.resident_id == old.id)).all()
        assert (
            account.unit_hint
            == shequyun_kernel.platform.resident_refs(session, [old.id])[old.id].committee.id
        )
