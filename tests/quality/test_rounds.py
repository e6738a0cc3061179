"""A verification round (核对): the street sends chosen rules to its committees as a roster
campaign; the confirmed answers are written back, the findings clear, the score moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .conftest import LONG_AGO, Town


def test_a_rounds_write_back_clears_its_findings_and_moves_the_score(town: Town):
    no_phone = town.add(phone=None)
    stale = town.add()
    town.age_record(stale, LONG_AGO)
    town.kernel.quality.scan()
    street = town.actors.street_admin("310115004000")
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    refused = town.client.post(
        "/api/v1/quality/rounds", json={"rules": ["nonsense"], "deadline": deadline},
        headers=street.auth,
    )  # fmt: skip
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "rules"
    started = town.client.post(
        "/api/v1/quality/rounds",
        json={"rules": ["missing_phone", "not_confirmed_12_months"], "deadline": deadline,
              "title": "2026年冬季居民信息核对"},
        headers=street.auth,
    )  # fmt: skip
    assert started.status_code == 201, started.text
    round_id = started.json()["round"]["id"]

    cadre = town.cadre()
    tasks = town.client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    [task] = [t for t in tasks if "居民信息核对" in str(t)]
    task = town.client.get(f"/api/v1/tasks/{task['id']}", headers=cadre.auth).json()
    roster = {r["id"] for r in task["roster"]}
    assert {no_phone, stale} <= roster
    # Only residents with findings of those rules are on the list.
    assert roster <= town.findings("missing_phone").get("missing_phone", set()) | {stale}

    rows = []
    for resident_id in sorted(roster):
        if resident_id == no_phone:
            rows.append({"resident_id": resident_id, "confirmed": False, "phone": "13812340000"})
        else:
            rows.append({"resident_id": resident_id, "confirmed": True})
    submitted = town.client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        json={"client_key": "quality-round-1", "data": {"rows": rows}},
        headers=cadre.auth,
    )
    assert submitted.status_code in {200, 201}, submitted.text
    town.drain()

    assert town.of(no_phone) == set()  # the phone was written back
    assert town.of(stale) == set()  # confirmed with the resident
    resident = town.client.get(f"/api/v1/residents/{no_phone}", headers=cadre.auth).json()
    assert resident["phone"]  # masked, but there
    history = town.client.get(f"/api/v1/residents/{no_phone}/history", headers=cadre.auth)
    assert history.status_code == 200 and '"collection"' in history.text  # with its source

    view = town.client.get(f"/api/v1/quality/rounds/{round_id}", headers=street.auth).json()
    [mine] = [c for c in view["round"]["committees"] if c["unit"] == "310115004001"]
    assert mine["after"]["score"] > mine["before"]["score"]
    assert mine["after"]["incomplete"] < mine["before"]["incomplete"]


def test_a_street_starts_a_round_in_the_portal(town: Town):
    town.add(phone=None)
    town.kernel.quality.scan()
    portal = town.actors.street_admin("310115004000").portal()
    assert "发起核对" in portal.get("/quality").text
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    started = portal.post(
        "/quality/rounds",
        data={"rules": ["missing_phone"], "deadline": day, "title": "电话核对"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    page = portal.get(started.headers["location"])
    assert page.status_code == 200 and "电话核对" in page.text and "潍坊一村居委会" in page.text
    # A cadre has no such form.
    assert "发起核对" not in town.cadre().portal().get("/quality").text


def test_a_person_on_a_rounds_list_stays_on_it_when_their_records_are_merged(town: Town):
    listed = town.add(name="蒋合并", born="19480808", phone=None)  # on the round's list
    town.kernel.quality.scan()
    street = town.actors.street_admin("310115004000")
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    started = town.client.post(
        "/api/v1/quality/rounds",
        json={"rules": ["missing_phone"], "deadline": deadline, "title": "电话核对"},
        headers=street.auth,
    )
    assert started.status_code == 201, started.text
    town.serial += 1
    kept = town.add(name="蒋合并", born="19480808")  # registered again later, with a phone

    def roster() -> set[int]:
        cadre = town.cadre()
        tasks = town.client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
        [task] = [t for t in tasks if "电话核对" in str(t)]
        task = town.client.get(f"/api/v1/tasks/{task['id']}", headers=cadre.auth).json()
        return {r["id"] for r in task["roster"]}

    assert listed in roster() and kept not in roster()
    town.kernel.quality.duplicates.find()
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {listed, kept}]
    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": kept}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    assert kept in roster() and listed not in roster()

    town.client.post(f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo",
                     headers=street.auth)  # fmt: skip
    assert listed in roster() and kept not in roster()


def test_a_person_listed_twice_by_a_round_counts_once_after_their_records_are_merged(
    town: Town,
):
    # Two active 常住 records of one person: the finding spans both, so the round lists both.
    first = town.add(name="褚两条", born="19570707", registration="常住")
    town.serial += 1
    second = town.add(name="褚两条", born="19570707", registration="常住")
    town.drain()
    assert "two_active_changzhu" in town.of(first) & town.of(second)
    street = town.actors.street_admin("310115004000")
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    started = town.client.post(
        "/api/v1/quality/rounds",
        json={"rules": ["two_active_changzhu"], "deadline": deadline, "title": "常住核对"},
        headers=street.auth,
    )
    assert started.status_code == 201, started.text
    campaign = started.json()["round"]["campaign_id"]
    cadre = town.cadre()
    tasks = town.client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    [task] = [t for t in tasks if "常住核对" in str(t)]
    rows = [{"resident_id": r, "confirmed": True} for r in (first, second)]
    submitted = town.client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        json={"client_key": "round-twice-1", "data": {"rows": rows}},
        headers=cadre.auth,
    )
    assert submitted.status_code in {200, 201}, submitted.text

    def listed() -> list[int]:
        answers = town.client.get(
            f"/api/v1/campaigns/{campaign}/submissions", headers=street.auth
        ).json()["items"]
        return [r["resident_id"] for item in answers for r in item["data"]["rows"]]

    assert listed() == [first, second]
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {first, second}]
    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": second},
        headers=street.auth,
    )  # fmt: skip
    assert merged.status_code == 201, merged.text
    assert listed() == [second]  # one person, one row: the kept record's answers
    results = town.client.get(
        f"/api/v1/campaigns/{campaign}/results?level=committee", headers=street.auth
    ).json()
    total = str(results["total"])
    assert "'answered': 1" in total and "'answered': 2" not in total

    undone = town.client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth
    )
    assert undone.status_code == 200, undone.text
    assert listed() == [first, second]
