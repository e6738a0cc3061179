"""Demonstration data for ``shequyun demo``: 天平路街道's advisors, resources and outreach.

An advisor point with two advisors, five resources, the benefits most older residents already
receive (nine in ten of those eligible for the 老年综合津贴, so that the list shows the tenth),
disability grades for the residents tagged 残疾 (some left unrecorded: "needs information"), the
outreach cases found for the street with a few followed up, and a month of service records.
Idempotent: nothing is added when the point exists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shequyun_sdk import Actor, Platform
from shequyun_sdk.population import Population
from sqlalchemy import insert, literal
from sqlmodel import Session, col, select

from . import outreach, pool
from .core import BEIJING, OUTREACH
from .models import Advisor, AdvisorPoint, Case, Receipt, Resource, ServiceRecord

__all__ = ["load"]

TIANPING = "310104003000"
POINT = "天平路街道社区综合为老服务中心顾问点"


def load(platform: Platform, actor: Actor) -> str:
    with platform.session() as session:
        street = platform.unit(session, TIANPING)
        if street is None:
            return "未找到天平路街道，未生成民生顾问演示数据。"
        if session.exec(select(AdvisorPoint.id).where(AdvisorPoint.name == POINT)).first():
            return "民生顾问演示数据已存在，未重复创建。"
        committees = platform.unit_committees(session, street)
        point = AdvisorPoint(
            name=POINT,
            kind="both",
            unit_id=street.id,
            address="天平路街道社区综合为老服务中心一楼",
            phone="021-64370000",
            covers=[street.id],
        )
        session.add(point)
        session.flush()
        advisors = [
            Advisor(name=name, kind=kind, point_id=point.id or 0, unit_id=street.id)
            for name, kind in (("顾晓燕", "elderly"), ("沈建平", "assistance"))
        ]
        session.add_all(advisors)
        for name, sector, services, needs, provider, capacity in (
            (
                "天平社区长者食堂",
                "government",
                ["助餐"],
                ["独居老人", "高龄老人"],
                "天平路街道社区事务受理服务中心",
                120,
            ),
            (
                "天平路日间照料中心",
                "social",
                ["日间照料", "康复"],
                ["高龄老人", "残疾"],
                "徐汇区社会组织服务中心（委托运营）",
                40,
            ),
            ("居家上门助浴", "market", ["助浴"], ["高龄老人", "残疾"], "某护理服务有限公司", 30),
            (
                "社区心理关爱热线",
                "social",
                ["心理疏导"],
                ["独居老人", "孤寡老人"],
                "徐汇区心理健康志愿者协会",
                None,
            ),
            (
                "法律援助工作站",
                "government",
                ["法律援助"],
                ["低保", "低收入"],
                "徐汇区司法局",
                None,
            ),
        ):
            session.add(
                Resource(
                    name=name,
                    sector=sector,
                    services=services,
                    needs=needs,
                    provider=provider,
                    unit_id=street.id,
                    covers=[street.id],
                    contact="021-64370000",
                    capacity=capacity,
                )
            )
        session.flush()
        day = pool.today()
        people = platform.resident_population(actor, permission=OUTREACH, within=street)
        allowance = pool.get_policy(session, "sh-elderly-allowance")
        receipts = 0
        if allowance is not None:
            compiled = pool.compiled(platform, session, allowance, people, day)
            c = compiled.columns
            chosen = select(
                literal(allowance.id),
                c.resident_id,
                literal(day - timedelta(days=400)),
                literal("demo"),
                literal("演示数据"),
                literal(datetime.now(UTC)),
            ).where(c.verdict == 3, c.resident_id % 10 != 0)
            result = session.execute(
                insert(Receipt).from_select(
                    ["policy_id", "resident_id", "since", "source", "recorded_by", "recorded_at"],
                    chosen,
                )
            )
            receipts = max(result.rowcount or 0, 0)
        graded = _grades(platform, session, actor, people)
    with platform.session() as session:
        found = outreach.sync(platform, session, actor, street, pool.pool(session))
        followed = _follow_up(platform, session, actor)
        services = _services(session, advisors, committees)
    return (
        f"民生顾问：天平路街道顾问点 1 个、顾问 2 名、资源 5 项，已享受津贴 {receipts} 人，"
        f"补登残疾等级 {graded} 人，政策找人发现 {sum(found.values())} 人、已跟进 {followed} 人，"
        f"服务记录 {services} 条。"
    )


def _grades(platform: Platform, session: Session, actor: Actor, people: Population) -> int:
    """Record disability grades for two in three residents tagged 残疾 (the rest: unknown)."""
    query = people.select(people.resident_id).where(people.has_tag("残疾"))
    ids = list(session.execute(query).scalars())
    done = 0
    for i, resident_id in enumerate(ids):
        if i % 3 == 2:
            continue
        view = platform.get_resident(session, actor, resident_id)
        platform.update_resident(
            session,
            actor,
            resident_id,
            {
                "attributes": {
                    "advisors.disability_grade": 1 + i % 4,
                    "advisors.disability_type": ["肢体", "精神", "视力", "智力"][i % 4],
                }
            },
            version=view["version"],
            source="plugin:advisors",
        )
        done += 1
    return done


def _follow_up(platform: Platform, session: Session, actor: Actor) -> int:
    """Follow up three cases of four policies: contacted, applied, approved — so that the
    funnel shows every step (an approved allowance is recorded, so it counts as receiving)."""
    done = 0
    for policy_id in ("sh-elderly-allowance", "sh-minimum-living", "ltc-assessment", "old-partner"):
        rows = session.exec(
            select(Case)
            .where(Case.status == "found", Case.policy_id == policy_id)
            .order_by(col(Case.id))
            .limit(3)
        ).all()
        for i, row in enumerate(rows):
            steps = ["contacted", "applied", "approved"][: i + 1]
            for step in steps:
                outreach.record_outcome(
                    platform, session, actor, row.id or 0, outcome=step, note="演示：电话联系本人"
                )
            done += 1
    return done


def _services(session: Session, advisors: list[Advisor], committees: list[object]) -> int:
    now = datetime.now(BEIJING)
    count = 0
    for i in range(24):
        advisor = advisors[i % 2]
        at = now - timedelta(days=i, hours=i % 5)
        unit = committees[i % len(committees)] if committees else None
        session.add(
            ServiceRecord(
                advisor_id=advisor.id or 0,
                unit_id=getattr(unit, "id", advisor.unit_id),
                kind=("consultation", "home_visit", "referral")[i % 3],
                channel=("offline", "phone", "online", "radio")[i % 4],
                at=at,
                month=at.strftime("%Y-%m"),
                summary=(
                    "上门了解老人身体状况，介绍长护险评估申请流程",
                    "电话答复老年综合津贴申领问题",
                    "转介至天平社区长者食堂助餐",
                )[i % 3],
                created_by="演示数据",
            )
        )
        count += 1
    return count
