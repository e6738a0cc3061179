"""Progress counts what the actor's scope reaches now, grouped as the campaign was sent.

``results.progress`` runs one statement built once per level and reach; a subtree is written
on PostgreSQL as a range of paths so that its prepared (generic) plan still uses the path
index. These tests pin what it counts for each kind of actor, after a committee moved between
districts, and the plan.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from shequyun.collection.results import _prefix_end, _progress_statement
from shequyun.direct import CompiledStatement

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


def test_a_prefix_as_a_range_holds_its_subtree_and_no_sibling():
    assert _prefix_end("/1/3/") == "/1/30"
    inside = ["/1/3/", "/1/3/12/", "/1/3/12/400/"]
    outside = ["/1/30/", "/1/31/7/", "/1/2/", "/1/", "/1/4/"]
    assert all("/1/3/" <= p < _prefix_end("/1/3/") for p in inside)
    assert not any("/1/3/" <= p < _prefix_end("/1/3/") for p in outside)


def test_the_prepared_plan_of_a_districts_progress_reads_units_by_their_path_index(
    shequyun_kernel, shequyun_actors
):
    """psycopg prepares a statement on its fifth run; PostgreSQL may then plan it once for
    any parameters. ``path LIKE :prefix || '%'`` planned so reads every unit of the city."""
    engine = shequyun_kernel.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared plans are PostgreSQL's")
    compiled = CompiledStatement(
        _progress_statement("street", "subtree", True, True).statement, engine.dialect
    )
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", number, compiled.sql).replace("%%", "%")
    values = {
        "campaign_id": 1,
        "scope": "/1/2/",
        "scope_end": _prefix_end("/1/2/"),
        "within": "/1/2/3/",
        "within_end": _prefix_end("/1/2/3/"),
    }
    with Session(engine) as session:
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql(f"PREPARE district_progress AS {sql}")
        arguments = ", ".join(
            str(values[n]) if isinstance(values[n], int) else f"'{values[n]}'" for n in names
        )
        plan = "\n".join(
            row[0]
            for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE district_progress({arguments})")
        )
        connection.exec_driver_sql("DEALLOCATE district_progress")
        session.rollback()
    assert "Seq Scan on kernel_org_unit" not in plan, plan
    assert "ix_kernel_org_unit_path" in plan, plan
