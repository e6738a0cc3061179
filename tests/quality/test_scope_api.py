"""A cadre sees only their committee's findings; scores add up the tree as ratios of sums."""

from __future__ import annotations

from .conftest import Town


def test_a_cadre_sees_only_their_committees_findings(town: Town):
    mine = town.add(phone=None)
    theirs = town.add("310115004002", phone=None)
    town.kernel.quality.scan()
    cadre = town.cadre()

    listed = town.client.get(
        "/api/v1/quality/findings", params={"rule": "missing_phone", "limit": 500},
        headers=cadre.auth,
    ).json()  # fmt: skip
    residents = {item["resident_id"] for item in listed["items"]}
    assert mine in residents and theirs not in residents
    assert {item["unit_name"] for item in listed["items"]} == {"潍坊一村居委会"}
    assert listed["items"][0]["fix"]

    # Another committee's list is not theirs to read: 404, as if it did not exist.
    other = town.client.get(
        "/api/v1/quality/findings", params={"unit": "310115004002"}, headers=cadre.auth
    )
    assert other.status_code == 404
    street = town.actors.street_admin("310115004000")
    both = town.client.get(
        "/api/v1/quality/findings", params={"rule": "missing_phone", "limit": 500},
        headers=street.auth,
    ).json()  # fmt: skip
    assert {mine, theirs} <= {item["resident_id"] for item in both["items"]}


def test_scores_add_up_the_tree_and_rank_the_children(town: Town):
    town.kernel.quality.scan()
    district = town.actors.district_admin("310115000000")
    street = town.client.get(
        "/api/v1/quality/units/310115004000/scores", headers=district.auth
    ).json()
    children = street["children"]
    assert [c["unit"]["code"] for c in children] != []
    assert street["residents"] == sum(c["residents"] for c in children)
    assert street["with_errors"] == sum(c["with_errors"] for c in children)
    scores = [c["score"] for c in children]
    assert scores == sorted(scores, reverse=True)
    # A ratio of sums, not an average of the committees' shares.
    assert street["completeness"] == round(1 - street["incomplete"] / street["residents"], 4)

    cadre = town.cadre()
    assert (
        town.client.get("/api/v1/quality/units/310115004000/scores", headers=cadre.auth).status_code
        == 404
    )


def test_a_cadre_confirms_and_waives_over_the_api(town: Town):
    old = town.add(born="19100101")
    town.kernel.quality.scan()
    cadre = town.cadre()
    refused = town.client.post(
        f"/api/v1/quality/residents/{old}/waivers", json={"rule": "age_over_110"},
        headers=cadre.auth,
    )  # fmt: skip
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "note"
    waived = town.client.post(
        f"/api/v1/quality/residents/{old}/waivers",
        json={"rule": "age_over_110", "note": "上门核实，老人健在"}, headers=cadre.auth,
    )  # fmt: skip
    assert waived.status_code == 201
    assert town.of(old) == set()
    # The rule keeps skipping them at the next full scan.
    town.kernel.quality.scan()
    assert town.of(old) == set()

    elsewhere = town.add("310115004002", born="19100101")
    assert (
        town.client.post(
            f"/api/v1/quality/residents/{elsewhere}/confirm", headers=cadre.auth
        ).status_code
        == 404
    )
