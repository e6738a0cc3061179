"""Demonstration data across 徐汇区: half a year of field logs and cases, and a knowledge base.

Cases and log entries are spread over 徐汇区's committees (the demo's residents, households and
buildings), with the mix a district sees — most closed on time, some late, some still open and a
few overdue — so the 民情 dashboards, the coverage figures and the workbench have something to
show. Idempotent: a second run finds its own rows and adds nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shequyun_sdk import Actor, Platform, UnitRef
from shequyun_sdk.workdays import BEIJING
from sqlmodel import Session, func, select

from . import categories, search
from .core import ancestor_ids, today
from .models import Article, ArticleVersion, Case, CaseStep, LogEntry

__all__ = ["load"]

DISTRICT = "310104000000"  # 徐汇区
SEED = 20261206

CASE_TEXTS = {
    "environment": ("{place}垃圾箱房满溢", "居民反映垃圾箱房清运不及时，夏季气味较大。"),
    "facility": ("{place}楼道灯损坏", "楼道感应灯多处不亮，老人夜间上下楼不便。"),
    "safety": ("{place}楼道堆物", "楼道堆放纸箱和旧家具，堵塞消防通道。"),
    "dispute": ("{place}邻里漏水纠纷", "楼上卫生间渗水至楼下，双方协商未果。"),
    "aid": ("独居老人生活困难", "独居老人行动不便，需要助餐和上门照护。"),
    "elevator": ("{place}加装电梯意见征询", "居民申请加装电梯，需组织意见征询和方案公示。"),
    "building": ("{place}违法搭建", "底楼住户在绿化带内搭建棚屋。"),
    "parking": ("{place}周边乱停车", "晚高峰车辆占用消防通道，救护车进出困难。"),
    "other": ("{place}居民诉求", "居民来电反映的其他诉求。"),
}
CASE_WEIGHTS = {
    "environment": 22,
    "facility": 20,
    "safety": 10,
    "dispute": 9,
    "aid": 8,
    "elevator": 6,
    "building": 5,
    "parking": 14,
    "other": 6,
}
SOURCE_WEIGHTS = {"dispatch": 25, "city": 35, "interaction": 15, "fieldlog": 15, "self": 10}
LOG_WEIGHTS = {
    "visit": 30,
    "help": 25,
    "dispute": 8,
    "safety": 10,
    "environment": 15,
    "facility": 12,
    "policy": 14,
    "opinion": 10,
    "other": 6,
}
LOG_TEXTS = {
    "visit": "例行入户走访，家中情况正常，已告知居委联系方式。",
    "help": "入户走访，了解老人近况，提醒注意用电安全。",
    "dispute": "邻里因噪音发生口角，现场劝解，约定下周回访。",
    "safety": "发现楼道有电动车充电，已劝导并登记。",
    "environment": "垃圾分类桶点周边有散落垃圾，已通知保洁。",
    "facility": "单元门禁损坏，已报物业。",
    "policy": "宣传长护险和助餐政策，居民有申请意向。",
    "opinion": "居民建议增设非机动车停放点。",
    "other": "例行走访。",
}
ARTICLES = [
    (
        "city",
        "procedure",
        "既有多层住宅加装电梯办事指南",
        "既有多层住宅电梯加装，由本幢业主协商一致后提出申请。流程：一、居委会协助组织业主"
        "意见征询，同意比例须达到法定要求；二、委托设计单位编制方案并公示；三、向街道提交申请，"
        "规划、住建部门联合审查；四、施工许可与竣工验收。资金可申请市、区两级补贴。",
        ["elevator"],
    ),
    (
        "city",
        "policy",
        "生活垃圾分类投放要求",
        "本市生活垃圾分为可回收物、有害垃圾、湿垃圾、干垃圾四类。居住区实行定时定点投放，"
        "居委会、业委会和物业共同做好桶点值守与宣传。",
        ["environment"],
    ),
    (
        "district",
        "answer",
        "独居老人关爱服务常见问题",
        "问：独居老人如何申请助餐服务？答：向居委会提出，社区事务受理服务中心审核后由助餐点"
        "提供服务。问：紧急呼叫设备如何安装？答：由街道统一安装，居委会协助登记。",
        ["aid"],
    ),
    (
        "district",
        "procedure",
        "小区停车矛盾协调工作流程",
        "停车矛盾先由居委会牵头召开居民议事会，听取各方意见，形成停车自治公约；涉及消防通道的"
        "占用，报街道城运中心协调执法。",
        ["parking"],
    ),
    (
        "district",
        "procedure",
        "违法搭建发现与处置流程",
        "居委会发现违法搭建后立即劝阻并拍照取证，当日上报街道；街道城管中队现场核查，"
        "依法责令限期拆除。",
        ["building"],
    ),
    (
        "street",
        "procedure",
        "邻里纠纷人民调解工作流程",
        "受理：居委会人民调解委员会登记纠纷。调查：分别听取双方陈述。调解：依法依规提出方案，"
        "达成协议的制作调解协议书。回访：一个月内回访履行情况。",
        ["dispute"],
    ),
    (
        "street",
        "template",
        "入户走访记录表（模板）",
        "走访日期、走访人、走访对象（户号、地址）、家庭成员情况、主要诉求、需跟进事项、"
        "居民签字。走访后当日录入民情日志。",
        [],
    ),
    (
        "street",
        "answer",
        "楼道堆物与电动车充电安全问答",
        "楼道堆物和电动车入户充电是火灾隐患。居委会发现后劝导清理，拒不整改的上报街道，"
        "由消防部门依法处理。",
        ["safety"],
    ),
]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), BEIJING).astimezone(UTC)


def load(platform: Platform, actor: Actor | None = None) -> str | None:
    """Fill 徐汇区 with demo logs, cases and articles; a one-line summary. ``actor`` is the
    plugin's own (the demo loader passes it); it reads the district's buildings and homes."""
    with platform.session() as session:
        district = platform.unit(session, DISTRICT)
        if district is None:
            return "社区治理：没有徐汇区，跳过演示数据"
        done = session.exec(
            select(func.count()).select_from(Case).where(Case.created_by == "演示数据")
        ).one()
        if done:
            return "社区治理：演示数据已存在，未重复创建"
        actor = actor or platform.plugin_actor("governance")
        committees = platform.unit_committees(session, district)
        if not committees:
            return "社区治理：徐汇区没有居村委，跳过演示数据"
        streets = {s.id: s for s in platform.unit_children(session, district)}
        rng = random.Random(SEED)
        places: dict[int, list[Any]] = {}
        homes: dict[int, list[Any]] = {}
        chosen = committees if len(committees) <= 60 else rng.sample(committees, 60)
        for committee in chosen:
            places[committee.id] = platform.pick(
                session,
                actor,
                "building",
                unit_code=committee.code,
                limit=40,
                permission="governance.view",
            )
            homes[committee.id] = platform.pick(
                session,
                actor,
                "household",
                unit_code=committee.code,
                limit=300,
                permission="governance.view",
            )
        articles = _articles(session, district, streets)
        logs = _logs(session, rng, chosen, homes)
        cases = _cases(platform, session, rng, district, streets, chosen, places)
    return f"社区治理：民情日志 {logs} 条，案件 {cases} 件，知识库文章 {articles} 篇（徐汇区）"


def _articles(session: Session, district: UnitRef, streets: dict[int, UnitRef]) -> int:
    city_id = ancestor_ids(district)[0]
    street = next(iter(sorted(streets.values(), key=lambda s: s.code)), district)
    owners = {
        "city": (city_id, "上海市", "city"),
        "district": (district.id, district.name, "district"),
        "street": (street.id, street.name, street.level),
    }
    for level, kind, title, body, cats in ARTICLES:
        unit_id, name, unit_level = owners[level]
        article = Article(
            unit_id=unit_id,
            unit_name=name,
            unit_level=unit_level,
            kind=kind,
            title=title,
            body=body,
            categories=cats,
            author="演示数据",
        )
        session.add(article)
        session.flush()
        assert article.id is not None
        session.add(
            ArticleVersion(
                article_id=article.id,
                version=1,
                kind=kind,
                title=title,
                body=body,
                categories=cats,
                note="首次发布",
                author="演示数据",
            )
        )
        search.index_article(session, article.id, unit_id, title, body)
    return len(ARTICLES)


def _logs(
    session: Session, rng: random.Random, committees: list[UnitRef], homes: dict[int, list[Any]]
) -> int:
    kinds = {c.code: c for c in categories.listed(session, "log")}
    count = min(1500, 25 * len(committees))
    for _ in range(count):
        committee = rng.choice(committees)
        category = kinds[_weighted(rng, {k: w for k, w in LOG_WEIGHTS.items() if k in kinds})]
        home = (
            rng.choice(homes[committee.id]) if homes[committee.id] and rng.random() < 0.85 else None
        )
        day = today() - timedelta(days=rng.randint(0, 150))
        session.add(
            LogEntry(
                unit_id=committee.id,
                unit_name=committee.name,
                kind="visit" if home is not None else "observation",
                category_id=int(category.id or 0),
                category_name=category.name,
                subject_key=home.key if home is not None else None,
                subject_label=home.label if home is not None else "",
                household_id=home.household_id if home is not None else None,
                building=f"{home.compound}{home.building}号楼"
                if home is not None and home.compound and home.building
                else None,
                body=LOG_TEXTS[category.code],
                follow_up=rng.random() < 0.15,
                occurred_on=day,
                author="演示社工",
                created_at=_at(day, rng.randint(9, 17)),
            )
        )
    return count


def _cases(
    platform: Platform,
    session: Session,
    rng: random.Random,
    district: UnitRef,
    streets: dict[int, UnitRef],
    committees: list[UnitRef],
    places: dict[int, list[Any]],
) -> int:
    calendar = platform.work_calendar(session)
    kinds = {c.code: c for c in categories.listed(session, "case")}
    count = min(900, 15 * len(committees))
    day0 = today()
    for number in range(count):
        committee = rng.choice(committees)
        street = streets.get(ancestor_ids(committee)[-2], district)
        category = kinds[_weighted(rng, CASE_WEIGHTS)]
        source = _weighted(rng, SOURCE_WEIGHTS)
        place = rng.choice(places[committee.id]) if places[committee.id] else None
        label = place.label if place is not None else committee.name
        title, body = CASE_TEXTS[category.code]
        created = calendar.add_working_days(day0 - timedelta(days=rng.randint(0, 175)), 0)
        due = calendar.add_working_days(created, category.due_days)
        age = calendar.working_days_between(created, day0)
        origin = {"dispatch": district, "city": district}.get(source, committee)
        case = Case(
            number=f"ZL{created:%Y%m%d}D{number:06d}",
            title=title.format(place=label)[:120],
            description=body,
            category_id=int(category.id or 0),
            category_name=category.name,
            priority="urgent" if rng.random() < 0.08 else "normal",
            source=source,
            source_ref=f"SH12345-DEMO-{number:06d}" if source == "city" else None,
            status="handling",
            origin_unit_id=origin.id,
            dispatcher_unit_id=street.id if origin.id != committee.id else committee.id,
            unit_id=committee.id,
            unit_name=committee.name,
            chain=[[origin.id, street.id], [street.id, committee.id]]
            if origin.id != committee.id
            else [[committee.id, committee.id]],
            subject_key=place.key if place is not None else None,
            subject_label=label if place is not None else "",
            place=label if place is not None else None,
            created_on=created,
            accept_due=calendar.add_working_days(created, 1),
            due_on=due,
            created_by="演示数据",
            created_at=_at(created, 9),
        )
        steps = _story(rng, case, calendar, created, due, age, origin, street, committee)
        session.add(case)
        session.flush()
        assert case.id is not None
        for step in steps:
            step.case_id = case.id
            session.add(step)
    return count


def _story(
    rng: random.Random,
    case: Case,
    calendar: Any,
    created: date,
    due: date,
    age: int,
    origin: UnitRef,
    street: UnitRef,
    committee: UnitRef,
) -> list[CaseStep]:
    """The steps a case of this age has gone through, with plausible dates."""

    def step(action: str, before: str | None, after: str, unit: UnitRef, day: date, **more: Any):
        return CaseStep(
            case_id=0,
            action=action,
            from_status=before,
            to_status=after,
            actor=f"{unit.name}工作人员",
            unit_id=unit.id,
            unit_name=unit.name,
            at=_at(day, rng.randint(9, 17)),
            **more,
        )

    steps: list[CaseStep] = []
    dispatched = origin.id != committee.id
    if dispatched:
        steps.append(
            step(
                "dispatch",
                None,
                "pending",
                origin,
                created,
                target_unit_id=street.id,
                target_unit_name=street.name,
            )
        )
        if origin.id != street.id:
            steps.append(
                step(
                    "reassign",
                    "pending",
                    "pending",
                    street,
                    created,
                    target_unit_id=committee.id,
                    target_unit_name=committee.name,
                )
            )
    else:
        steps.append(step("open", None, "handling", committee, created, note=case.description))
    if age == 0 and dispatched and rng.random() < 0.6:
        case.status, case.accepted_at = "pending", None
        return steps
    accepted = calendar.add_working_days(created, 1 if rng.random() < 0.9 else 2)
    accepted = min(accepted, today())
    if dispatched:
        steps.append(step("accept", "pending", "handling", committee, accepted))
    case.accepted_at = _at(accepted, 10)
    # Handled within the working days allowed, leaving the day the checker needs to verify;
    # about one case in eight runs late. (Counting the span in calendar days, as this did,
    # made half of the demo's cases late: 41 % on time on 徐汇区's dashboard.)
    span = calendar.working_days_between(created, due)
    late = rng.random() < 0.12
    if late:
        finish = calendar.add_working_days(due, rng.randint(1, 6))
    else:
        share = min(max(rng.gauss(0.55, 0.2), 0.0), 1.0)
        finish = calendar.add_working_days(created, max(1, min(span - 1, round(share * span))))
    if finish >= today():
        case.status = "handling"
        if rng.random() < 0.2 and today() > due:
            case.supervised = 1
            steps.append(
                step("supervise", "handling", "handling", street, today(), note="请加快办理")
            )
        return steps
    steps.append(step("handle", "handling", "handling", committee, finish, note="已现场处置"))
    steps.append(
        step("report", "handling", "reported", committee, finish, note="已办结，附现场情况")
    )
    case.reported_at = _at(finish, 16)
    checker = street if dispatched else committee
    verified = calendar.add_working_days(finish, 1)
    if verified >= today() and rng.random() < 0.5:
        case.status = "reported"
        return steps
    verified = min(verified, today())
    steps.append(step("verify", "reported", "closed", checker, verified, detail={"passed": True}))
    steps.append(step("close", "reported", "closed", checker, verified))
    case.status, case.closed_at, case.closed_on = "closed", _at(verified, 17), verified
    if rng.random() < 0.3:
        mood = rng.choices(["satisfied", "basic", "unsatisfied"], weights=[70, 22, 8])[0]
        case.satisfaction = mood
        steps.append(
            step(
                "revisit",
                "closed",
                "closed",
                checker,
                verified,
                note="电话回访",
                detail={"satisfaction": mood},
            )
        )
    return steps
