"""Demonstration content for ``shequyun demo``: 天平路街道 and its committees.

A pinned street announcement; for each committee a welcome announcement, a financial
disclosure and a lift-installation topic (一户一票, 2/3 of the building's households) for its
first building. Idempotent: nothing is added when the street announcement exists.

And one resident account, so that a visitor can see the residents' side: phone
:data:`RESIDENT_PHONE`, password ``Demo-2026``, signed up and verified by name + ID number
through the same functions a resident's sign-up and verification call. It is linked to the
resident the kernel's demo registers for this (``DEMO_RESIDENT`` in the kernel's residents
demo: 陈晓梅 of the demo cadre's committee, whose building votes on the lift); the three values
are repeated here because a plugin reads the kernel only through the SDK. Opened once: a
second run finds the phone taken and adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

from shequyun_sdk import Conflict, Platform, UnitRef, ValidationFailed
from sqlmodel import Session, select

from .accounts import sign_up
from .core import now
from .models import Announcement, Disclosure, DisclosureRevision, Topic
from .verification import verify_identity

__all__ = ["RESIDENT_PHONE", "load"]

TIANPING = "310104003000"
AUTHOR = "演示数据"
#: The kernel demo's resident (its ``DEMO_RESIDENT``) and her account's sign-in.
RESIDENT_NAME = "陈晓梅"
RESIDENT_ID_NUMBER = "310104198806150420"
RESIDENT_PHONE = "13900000001"
RESIDENT_PASSWORD = "Demo-2026"


def load(platform: Platform, plugin_name: str = "interaction") -> str:
    """Load the content, then open the resident account; one summary line for both."""
    return _load_content(platform) + _open_resident_account(platform, plugin_name)


def _open_resident_account(platform: Platform, plugin_name: str) -> str:
    try:
        account, _ = sign_up(platform, RESIDENT_PHONE, RESIDENT_PASSWORD)
    except Conflict:
        return ""  # opened by an earlier run (or taken by a real sign-up: left alone)
    assert account.id is not None
    try:
        ref = verify_identity(
            platform, account.id, RESIDENT_NAME, RESIDENT_ID_NUMBER, plugin_name=plugin_name
        )
    except ValidationFailed:
        return f"居民演示账号 {RESIDENT_PHONE} 已注册，但未找到演示居民{RESIDENT_NAME}，未核验。"
    return (
        f"居民演示账号：手机 {RESIDENT_PHONE}，密码 {RESIDENT_PASSWORD}"
        f"（{ref.name}，{ref.committee.name}，已实名核验）。"
    )


def _load_content(platform: Platform) -> str:
    with platform.session() as session:
        street = platform.unit(session, TIANPING)
        if street is None:
            return "未找到天平路街道，未生成居社互动演示数据。"
        done = session.exec(
            select(Announcement.id).where(
                Announcement.unit_id == street.id, Announcement.author == AUTHOR
            )
        ).first()
        if done is not None:
            return "居社互动演示数据已存在，未重复创建。"
        committees = [
            unit
            for n in range(1, 31)
            if (unit := platform.unit(session, f"{TIANPING[:9]}{n:03d}")) is not None
            and unit.level == "committee"
        ]
        _announce(
            session,
            street,
            "冬季消防安全提示",
            "天冷用电多，请勿在楼道内为电动自行车充电，发现隐患请拨打居委电话。",
            pinned=True,
        )
        topics = 0
        for unit in committees:
            _announce(
                session,
                unit,
                f"{unit.name}欢迎您使用居社互动",
                "在这里可以查看公告和居务公开、在线申请证明和报修、参与议事厅表决。",
            )
            _disclose(session, unit)
            buildings = platform.resident_buildings(session, unit.id)
            if buildings:
                first = buildings[0]
                session.add(
                    Topic(
                        unit_id=unit.id,
                        unit_code=unit.code,
                        unit_name=unit.name,
                        title=f"{first.label}加装电梯意见征询",
                        body="拟为本楼加装电梯，费用按楼层分摊。请各户表决，需本楼三分之二以上户数同意。",
                        options=["同意", "不同意"],
                        scope_kind="buildings",
                        scope_values=[list(first.key)],
                        rule="household",
                        threshold_num=2,
                        threshold_den=3,
                        opens_at=now(),
                        closes_at=now() + timedelta(days=30),
                        created_by=AUTHOR,
                    )
                )
                topics += 1
    return (
        f"居社互动：公告 {len(committees) + 1} 条、居务公开 {len(committees)} 条、"
        f"加装电梯议题 {topics} 个。"
    )


def _announce(session: Session, unit: UnitRef, title: str, body: str, pinned: bool = False) -> None:
    session.add(
        Announcement(
            unit_id=unit.id,
            unit_code=unit.code,
            unit_name=unit.name,
            unit_level=unit.level,
            unit_path=unit.path,
            title=title,
            body=body,
            pinned=pinned,
            author_user_id=0,
            author=AUTHOR,
        )
    )


def _disclose(session: Session, unit: UnitRef) -> None:
    title = "本年度第三季度居委经费收支"
    body = "收入：区拨经费 12.0 万元；支出：环境整治 4.2 万元、为老服务 3.1 万元、活动 1.5 万元。"
    row = Disclosure(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        category="finance",
        title=title,
        body=body,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(
        DisclosureRevision(
            disclosure_id=row.id,
            version=1,
            category="finance",
            title=title,
            body=body,
            changed_by=AUTHOR,
            note="首次公开",
        )
    )
