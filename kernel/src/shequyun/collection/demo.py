"""The demo's data collection: 市民政局 asks 徐汇区's committees about lifts for old buildings.

A bureau clerk logging in to the demo finds a campaign under way (the committees of 天平路街道
other than the demo cadre's own have answered, most others have not), the street and district
admins read its progress, and the demo cadre (``tianping.cadre``) has the task to fill. The
committees' answers are entered by this plugin acting as itself, and history says so.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from ..identity.actors import plugin_actor
from ..identity.auth import unit_ref
from ..identity.demo_data import SEED, TIANPING, XUHUI, demo_actor
from ..identity.models import OrgUnit, User
from .models import Campaign, Task

__all__ = ["TITLE", "load"]

TITLE = "2026年旧住房加装电梯意愿摸底"
BUREAU = "shimzj"
DEMO_CADRE = "tianping.cadre"
DAYS_LEFT = 10

FORM: dict[str, Any] = {
    "title": "旧住房加装电梯意愿摸底",
    "schema": {
        "type": "object",
        "properties": {
            "buildings": {"type": "integer", "minimum": 0, "maximum": 500},
            "willing": {"type": "integer", "minimum": 0, "maximum": 500},
            "built": {"type": "integer", "minimum": 0, "maximum": 500},
            "obstacle": {"enum": ["低层住户意见不一", "资金筹措", "管线迁移", "空间不足", "无"]},
            "remark": {"type": "string", "maxLength": 200},
        },
        "required": ["buildings", "willing", "built", "obstacle"],
        "additionalProperties": False,
    },
    "ui": {
        "order": ["buildings", "willing", "built", "obstacle", "remark"],
        "fields": {
            "buildings": {"label": "辖区内六层及以下、未装电梯的多层住宅楼栋数"},
            "willing": {"label": "其中居民已有加装意愿的楼栋数"},
            "built": {"label": "今年已完成加装的楼栋数"},
            "obstacle": {"label": "最主要的困难", "widget": "radio"},
            "remark": {"label": "备注", "widget": "textarea"},
        },
    },
}


def load(kernel: Any) -> str | None:
    """Open the demo campaign once and answer part of it; say what was done."""
    with Session(kernel.engine, expire_on_commit=False) as session:
        if session.exec(select(Campaign.id).where(Campaign.title == TITLE)).first():
            return "演示采集已加载，未重复创建。"
        clerk = demo_actor(session, kernel, BUREAU)
        if clerk is None:
            return None  # not the demo's accounts: nothing to demonstrate with
        form = kernel.collection.forms.create(session, clerk, FORM)
        session.flush()
        kernel.collection.forms.publish(session, clerk, form.id, 1)
        deadline = datetime.now(UTC) + timedelta(days=DAYS_LEFT)
        campaign = kernel.collection.campaigns.open(
            session,
            clerk,
            {
                "form_id": form.id,
                "version": 1,
                "title": TITLE,
                "targets": [XUHUI],
                "deadline": deadline.isoformat(),
            },
        )
        session.commit()
        answered = _answer(session, kernel, campaign.id)
        session.commit()
        total = len(list(session.exec(select(Task.id).where(Task.campaign_id == campaign.id))))
    return (
        f"数据采集：市民政局已向徐汇区下发「{TITLE}」，{total} 个居村委中已有 {answered} 个提交。"
    )


def _answer(session: Session, kernel: Any, campaign_id: int | None) -> int:
    """Submit for 天平路街道's committees but the demo cadre's, and a few elsewhere."""
    cadre_home = session.exec(select(User.home_unit_id).where(User.username == DEMO_CADRE)).first()
    xuhui = session.exec(select(OrgUnit).where(OrgUnit.code == XUHUI)).one()
    actor = plugin_actor("collection", "线上一键采集", unit_ref(xuhui), ["collection.fill"])
    rows = session.exec(
        select(Task.id, OrgUnit.code, OrgUnit.id)
        .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
        .where(Task.campaign_id == campaign_id)
        .order_by(col(Task.id))
    ).all()
    rng = random.Random(SEED)
    street_prefix = TIANPING[:9]
    answered = 0
    for task_id, code, unit_id in rows:
        here = code.startswith(street_prefix)
        if unit_id == cadre_home or not (here or rng.random() < 0.15):
            continue
        buildings = rng.randint(4, 60)
        willing = rng.randint(0, buildings)
        data = {
            "buildings": buildings,
            "willing": willing,
            "built": rng.randint(0, willing // 3),
            "obstacle": rng.choice(FORM["schema"]["properties"]["obstacle"]["enum"]),
        }
        kernel.collection.campaigns.submit(session, actor, task_id, data, f"demo-{task_id:08d}")
        answered += 1
    return answered
