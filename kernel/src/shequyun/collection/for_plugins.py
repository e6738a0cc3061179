"""What plugins read of one-click collection through the Platform: a campaign, a task, a
submission's answers — each in the actor's scope, with the same permissions as the API.

A plugin subscribed to ``collection.submission.created`` acts for itself with its own actor,
which holds the kernel permissions its manifest lists in ``actor_permissions``: to read answers
it asks for ``collection.results`` (or ``collection.review``).
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import NotFound
from shequyun_sdk.identity import Actor
from sqlmodel import Session

from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .campaigns import FILL, RESULTS, REVIEW, CampaignService
from .models import Campaign, Form, FormVersion, Task
from .tasks import aware, check_task_scope

__all__ = ["campaign", "campaign_view", "submission", "task"]

#: Who may read a task: its publisher's side, or the committee filling it.
READERS = (RESULTS, REVIEW, FILL)


def campaign(
    service: CampaignService, session: Session, actor: Actor | None, campaign_id: int
) -> dict[str, Any]:
    """The campaign as ``GET /api/v1/campaigns/{id}`` shows it, plus its publisher unit."""
    found = service.get(session, actor, campaign_id)
    publisher = session.get(OrgUnit, found.publisher_unit_id)
    assert publisher is not None
    return {**campaign_view(session, found), "publisher_unit": _unit(publisher)}


def campaign_view(session: Session, campaign: Campaign) -> dict[str, Any]:
    """A campaign as the API shows it (``GET /api/v1/campaigns/{id}``)."""
    version = session.get(FormVersion, campaign.form_version_id)
    assert version is not None
    form = session.get(Form, version.form_id)
    assert form is not None
    return {
        "id": campaign.id,
        "title": campaign.title,
        "instructions": campaign.instructions,
        "form": {"id": form.id, "title": form.title, "version": version.number},
        "mode": campaign.mode,
        "roster_filter": campaign.roster_filter,
        "writeback": campaign.writeback,
        "status": campaign.status,
        "starts_at": aware(campaign.starts_at).isoformat(),
        "deadline": aware(campaign.deadline).isoformat(),
    }


def task(session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
    """One committee's task: its unit, status and dates, without the answers."""
    row, unit, found = _readable(session, actor, task_id)
    return {
        "id": row.id,
        "campaign_id": found.id,
        "campaign": found.title,
        "unit": _unit(unit),
        "status": row.status,
        "version": row.version,
        "deadline": aware(found.deadline).isoformat(),
        "submitted_at": aware(row.submitted_at).isoformat() if row.submitted_at else None,
        "on_time": row.on_time,
    }


def submission(session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
    """The task's submitted answers (``answers``: the form's field names to values) and the
    form version they answer; :class:`NotFound` (field ``task_id``) while nothing is submitted."""
    row, unit, found = _readable(session, actor, task_id)
    if row.status not in ("submitted", "returned") or row.form_version_id is None:
        raise NotFound("该任务尚未提交", field="task_id")
    version = session.get(FormVersion, row.form_version_id)
    assert version is not None
    return {
        "task_id": row.id,
        "campaign_id": found.id,
        "unit": _unit(unit),
        "status": row.status,
        "version": row.version,
        "form": {"id": version.form_id, "version": version.number},
        "submitted_at": aware(row.submitted_at).isoformat() if row.submitted_at else None,
        "on_time": row.on_time,
        "answers": dict(row.data),
    }


def _readable(
    session: Session, actor: Actor | None, task_id: int
) -> tuple[Task, OrgUnit, Campaign]:
    row = session.get(Task, task_id)
    if row is None:
        raise NotFound("找不到该填报任务", field="task_id")
    unit = session.get(OrgUnit, row.unit_id)
    assert unit is not None
    ref = unit_ref(unit)
    permission = next((p for p in READERS if scope.can(actor, p, ref)), READERS[0])
    check_task_scope(actor, unit, permission)
    found = session.get(Campaign, row.campaign_id)
    assert found is not None
    return row, unit, found


def _unit(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "id": unit.id, "name": unit.name, "level": unit.level}
