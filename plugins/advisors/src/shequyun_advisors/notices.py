"""信息找人: tell candidates who have a resident account that a policy may apply to them.

The plugin delivers nothing itself: it publishes ``advisors.notice`` — ``{"policy_id",
"policy_name", "unit_code", "title", "text", "link", "resident_ids"}`` (at most 500 ids an event)
— and any notification plugin delivers it to the residents it knows. The 居社互动 plugin
(``plugins/interaction``) does when installed, to residents with a verified account, once per
policy and resident; residents without an account are left to the advisors' visits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef
from sqlalchemy import and_, select
from sqlmodel import Session, col

from . import pool
from .core import CLOSED, OUTREACH
from .models import Case

__all__ = ["NOTICE_EVENT", "notify_candidates"]

NOTICE_EVENT = "advisors.notice"
CHUNK = 500


def notify_candidates(
    platform: Platform,
    session: Session,
    actor: Actor,
    unit: UnitRef,
    *,
    policy_id: Any,
    committees: Sequence[int] | None,
) -> dict[str, Any]:
    """Publish notices for ``unit``'s open cases of ``policy_id``; how many residents."""
    policy = pool.get_policy(session, policy_id) if isinstance(policy_id, str) else None
    if policy is None:
        raise NotFound("找不到该政策", field="policy")
    condition = and_(
        platform.scope_filter(actor, OUTREACH, Case.unit_id),
        Case.policy_id == policy.id,
        col(Case.status).not_in(CLOSED),
    )
    if committees is not None:
        condition = and_(condition, col(Case.unit_id).in_(committees))
    ids = list(session.execute(select(col(Case.resident_id)).where(condition)).scalars())
    for start in range(0, len(ids), CHUNK):
        platform.publish(
            session,
            NOTICE_EVENT,
            {
                "policy_id": policy.id,
                "policy_name": policy.name,
                "unit_code": unit.code,
                "unit_id": unit.id,
                "title": f"您可能符合「{policy.name}」",
                "text": f"社区民生顾问提示：您可能可以享受「{policy.name}」。"
                "如需了解或申请，请联系居委会或社区顾问点。",
                "link": "/",
                "resident_ids": ids[start : start + CHUNK],
            },
        )
    platform.audit(
        session,
        "advisors.notices_sent",
        actor=actor,
        target_type="unit",
        target_id=unit.code,
        detail={"policy": policy.id, "residents": len(ids)},
    )
    return {"policy": policy.id, "residents": len(ids)}
