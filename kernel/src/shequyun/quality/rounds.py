"""Verification rounds (核对): chosen rules become a roster campaign to the committees concerned.

A street or district starts a round for some rules; every committee of its area with open
findings of those rules gets a roster task listing exactly those residents (the list is fixed
when the round starts). A cadre checks each resident with them and answers: 信息无误 (the record
is confirmed), or the phone as it should be (written back to the record, with history, by the
collection's write-back). When a task is submitted, the confirmed residents are recorded as
checked and their findings re-evaluated, so the committee's score moves at once; the round's
page shows each committee's score before and now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select

from ..collection.models import Campaign, Task
from ..identity import audit, scope
from ..identity.models import OrgUnit
from . import scores
from .models import Confirmation, Finding, Round
from .service import READ, QualityService

__all__ = ["ROUND_FORM", "Rounds"]

#: What a cadre answers per resident of the roster.
ROUND_FORM = {
    "schema": {
        "type": "object",
        "properties": {
            "confirmed": {"type": "boolean"},
            "phone": {"type": "string", "format": "phone"},
            "note": {"type": "string", "maxLength": 200},
        },
        "required": ["confirmed"],
        "additionalProperties": False,
    },
    "ui": {
        "order": ["confirmed", "phone", "note"],
        "fields": {
            "confirmed": {"label": "已与居民核实，信息无误", "widget": "switch"},
            "phone": {"label": "联系电话（有变化或缺失时填写）", "widget": "phone"},
            "note": {"label": "备注"},
        },
    },
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Rounds:
    """Starting rounds, recording their confirmed answers, and their before/after scores."""

    def __init__(self, quality: QualityService, collection: Any) -> None:
        self.quality = quality
        self.collection = collection

    def start(
        self, session: Session, actor: Actor, rules: Any, deadline: Any, title: Any = None
    ) -> Round:
        """Open the round's roster campaign to the committees with findings of ``rules``."""
        if actor.unit is None or actor.unit.level not in {"street", "district", "city"}:
            raise ValidationFailed("核对由街镇、区或市发起", field="unit")
        known = {r.code for r in self.quality.rules(session)}
        if (
            not isinstance(rules, list)
            or not rules
            or not all(isinstance(r, str) for r in rules)
            or not set(rules) <= known
        ):
            raise ValidationFailed("请选择要核对的质量规则", field="rules")
        findings = session.exec(
            select(Finding.resident_id, Finding.unit_id).where(
                col(Finding.rule_code).in_(rules),
                scope.scope_filter(actor, READ, col(Finding.unit_id)),
            )
        ).all()
        if not findings:
            raise ValidationFailed("您的范围内没有这些规则发现的问题", field="rules")
        committees = sorted({unit_id for _, unit_id in findings})
        codes = list(session.exec(select(OrgUnit.code).where(col(OrgUnit.id).in_(committees))))
        label = title if isinstance(title, str) and title.strip() else "居民信息核对"
        form = self.collection.forms.create(session, actor, {"title": label, **ROUND_FORM})
        self.collection.forms.publish(session, actor, form.id, 1)
        campaign = self.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "title": label,
                "instructions": "请逐一与名单中的居民核实信息：无误的打开“信息无误”，"
                "电话有变化或缺失的填写新电话（将写回居民信息库）。",
                "deadline": deadline,
                "mode": "roster",
                "roster_filter": {"resident_ids": sorted({r for r, _ in findings})},
                "writeback": {"phone": "phone"},
                "targets": codes,
            },
        )
        assert actor.unit is not None and campaign.id is not None
        counts = scores.committee_counts(session, self.quality.rules(session), committees)
        row = Round(
            unit_id=actor.unit.id,
            rules=list(rules),
            campaign_id=campaign.id,
            before={str(k): v for k, v in counts.items()},
            started_by=actor.username,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            "quality.round_started",
            actor=actor,
            target_type="quality_round",
            target_id=row.id,
            detail={"rules": list(rules), "campaign": campaign.id, "committees": len(codes)},
        )
        return row

    def on_submission(self, payload: Mapping[str, Any]) -> None:
        """A round's task was submitted: its confirmed residents are checked as of now."""
        campaign_id, task_id = payload.get("campaign_id"), payload.get("task_id")
        with Session(self.quality.engine) as session:
            found = session.exec(select(Round).where(Round.campaign_id == campaign_id)).first()
            task = session.get(Task, task_id) if isinstance(task_id, int) else None
            if found is None or task is None:
                return
            rows = task.data.get("rows") if isinstance(task.data, dict) else None
            confirmed = [
                r["resident_id"]
                for r in rows or []
                if isinstance(r, dict) and r.get("confirmed") is True
            ]
            now = utcnow()
            for resident_id in confirmed:
                mark = session.get(Confirmation, resident_id) or Confirmation(
                    resident_id=resident_id
                )
                mark.confirmed_at, mark.actor_username = now, f"round:{found.id}"
                session.add(mark)
            session.flush()
            self.quality.refresh(session, confirmed)
            session.commit()

    def view(self, session: Session, actor: Actor, round_id: int) -> dict[str, Any]:
        """The round, and each committee's score when it started and now."""
        found = session.get(Round, round_id)
        unit = session.get(OrgUnit, found.unit_id) if found else None
        if found is None or unit is None:
            raise NotFound("找不到该核对")
        self.quality.unit_in_reach(session, actor, unit.code)
        campaign = session.get(Campaign, found.campaign_id)
        ids = [int(k) for k in found.before]
        now = scores.committee_counts(session, self.quality.rules(session), ids)
        units = session.exec(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(col(OrgUnit.id).in_(ids))
        )
        found_units = {unit_id: (code, name) for unit_id, code, name in units.all()}
        names = {unit_id: code for unit_id, (code, _) in found_units.items()}
        committees = []
        for unit_id in ids:
            before = scores.Score(names.get(unit_id, ""), "", "committee")
            before.add(found.before[str(unit_id)])
            after = scores.Score(names.get(unit_id, ""), "", "committee")
            after.add(now.get(unit_id, {}))
            committees.append(
                {
                    "unit": names.get(unit_id),
                    "unit_name": found_units.get(unit_id, ("", ""))[1],
                    "before": before.view(),
                    "after": after.view(),
                }
            )
        return {
            "id": found.id,
            "rules": found.rules,
            "campaign_id": found.campaign_id,
            "campaign_title": campaign.title if campaign else None,
            "started_at": found.started_at.isoformat(),
            "committees": committees,
        }
