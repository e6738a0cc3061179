"""``shequyun demo``'s data collection: 市民政局's survey of 徐汇区, under way, never twice."""

from __future__ import annotations

from sqlmodel import Session, col, select

from shequyun.collection import demo
from shequyun.collection.models import Campaign, Task
from shequyun.identity.models import OrgUnit


def tasks_by_committee(kernel) -> dict[str, tuple[int, str]]:
    """Each committee's task of the campaign: its id and status."""
    with Session(kernel.engine) as session:
        rows = session.exec(
            select(OrgUnit.code, Task.id, Task.status).join(
                OrgUnit, col(OrgUnit.id) == Task.unit_id
            )
        ).all()
    return {code: (task_id, status) for code, task_id, status in rows}


def statuses(kernel) -> dict[str, str]:
    return {code: status for code, (_, status) in tasks_by_committee(kernel).items()}


def test_without_the_demo_accounts_it_opens_nothing(shequyun_kernel, shequyun_units):
    assert demo.load(shequyun_kernel) is None
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Campaign)).first() is None


def test_the_bureau_has_a_campaign_under_way_and_the_demo_cadre_a_task_to_fill(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    bureau = shequyun_actors.make("identity.bureau", "310000000000", username="shimzj")
    cadre = shequyun_actors.make("identity.cadre", "310104003002", username="tianping.cadre")

    summary = demo.load(shequyun_kernel)

    found = statuses(shequyun_kernel)
    assert set(found) == {c for c in found if c.startswith("310104")}  # 徐汇区 only
    assert found["310104003001"] == "submitted"  # the rest of 天平路街道 answered
    assert found["310104003002"] == "not_started"  # the demo cadre's own is left to fill
    submitted = sum(s == "submitted" for s in found.values())
    assert f"{len(found)} 个居村委中已有 {submitted} 个提交" in summary

    mine = cadre.portal().get("/collection/tasks").text
    assert demo.TITLE in mine
    followed = bureau.portal().get("/workbench").text.split('id="wb-followed"')[1]
    assert f"已提交 {submitted}/{len(found)}" in followed.split("</section>")[0]

    # Who entered what, on a task's page: the plugin by its title, a cadre by their name.
    tasks = {code: task_id for code, (task_id, _) in tasks_by_committee(shequyun_kernel).items()}
    answered = bureau.portal().get(f"/collection/tasks/{tasks['310104003001']}").text
    record = answered.split("办理记录")[1]
    assert "线上一键采集（插件）" in record and "plugin:collection" not in record
    filled = shequyun_client.post(
        f"/api/v1/tasks/{tasks['310104003002']}/submit",
        headers=cadre.auth,
        json={
            "data": {"buildings": 30, "willing": 12, "built": 2, "obstacle": "资金筹措"},
            "client_key": "demo-test-0001",
        },
    )
    assert filled.status_code == 201, filled.text
    own = cadre.portal().get(f"/collection/tasks/{tasks['310104003002']}").text
    assert cadre.user.display_name in own.split("办理记录")[1]

    # A second run (./dev demo on the same database) adds nothing.
    assert demo.load(shequyun_kernel) == "演示采集已加载，未重复创建。"
    with Session(shequyun_kernel.engine) as session:
        assert len(session.exec(select(Campaign)).all()) == 1
    assert statuses(shequyun_kernel) == {**found, "310104003002": "submitted"}
