"""Passing a resident's request up to the 末端处置 case channel, and showing its case back.

Only the SDK's contract (:mod:`shequyun_sdk.cases`) is used: the cadre's escalation publishes
``case.escalation_requested`` with this request as ``source_ref`` (``request:<id>``); whichever
plugin runs the case channel (the 社区治理 plugin, when installed) opens one case and publishes
``case.updated`` on each step, which :func:`case_updated` writes onto the request, into its
history and to the resident's notifications. This plugin never imports the channel's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shequyun_sdk import Actor, Conflict, Event, NotFound, Platform
from shequyun_sdk.cases import CASE_ESCALATION, escalation, read_update
from sqlmodel import select

from .core import SERVE, Errors, now, text
from .models import Notification, RequestReply, ServiceRequest
from .notify import notify

__all__ = ["SOURCE", "case_updated", "escalate"]

SOURCE = "interaction"


def escalate(
    platform: Platform, actor: Actor, request_id: int, raw: Mapping[str, Any]
) -> ServiceRequest:
    """Hand a request to the case channel (once), with the cadre's note for the case."""
    errors = Errors()
    note = text(raw, "note", "上报说明", errors, max_length=1000, required=False)
    errors.raise_if_any()
    with platform.session() as session:
        row = session.exec(
            select(ServiceRequest)
            .where(ServiceRequest.id == request_id)
            .where(platform.scope_filter(actor, SERVE, ServiceRequest.unit_id))
        ).first()
        if row is None:
            raise NotFound("找不到该服务申请")
        if row.escalated_at is not None:
            raise Conflict("该申请已上报为治理案件", field="action")
        if row.status in ("done", "rejected"):
            raise Conflict("该申请已结束，不能上报", field="action")
        unit = platform.unit_by_id(session, row.unit_id)
        if unit is None:
            raise NotFound("找不到该申请所属的居委")
        description = row.body + (f"\n\n居委说明：{note}" if note else "")
        platform.publish(
            session,
            CASE_ESCALATION,
            escalation(
                source=SOURCE,
                source_ref=f"request:{row.id}",
                unit_code=unit.code,
                title=row.title,
                description=description,
                category=row.category,
                resident_id=row.resident_id,
                address=row.address_label or None,
                requested_by=actor.display_name,
            ),
        )
        row.escalated_at = row.updated_at = now()
        session.add(row)
        session.add(
            RequestReply(
                request_id=request_id,
                author_kind="cadre",
                author=row.unit_name,
                body="已上报社区治理平台办理" + (f"：{note}" if note else ""),
            )
        )
        platform.audit(
            session,
            "interaction.request_escalated",
            actor=actor,
            target_type="interaction_request",
            target_id=row.id,
        )
        return row


def case_updated(platform: Platform, event: Event) -> None:
    """Write a step of the request's case onto the request and tell the resident (once)."""
    update = read_update(event.payload)
    if update is None or update["source"] != SOURCE:
        return
    ref = update["source_ref"]
    if not ref.startswith("request:") or not ref[8:].isdigit():
        return
    key = f"request-case:{event.id}"
    with platform.session() as session:
        row = session.get(ServiceRequest, int(ref[8:]))
        if row is None:
            return
        seen = session.exec(
            select(Notification.id).where(
                Notification.resident_id == row.resident_id, Notification.dedupe_key == key
            )
        ).first()
        if seen is not None:  # delivered twice: written already
            return
        row.case_number = update["case_number"]
        row.case_status = update["status"]
        row.case_status_label = update["status_label"]
        row.updated_at = now()
        session.add(row)
        words = (
            f"治理案件 {update['case_number']}：{update['step_label']}（{update['status_label']}）"
        )
        if update["note"] and update["step"] in ("report", "close"):
            words += f"\n{update['note']}"
        session.add(
            RequestReply(
                request_id=row.id or 0,
                author_kind="cadre",
                author=update["unit_name"],
                body=words,
            )
        )
        notify(
            platform,
            session,
            row.resident_id,
            kind="request.case",
            title=f"您的申请「{row.title}」：{update['step_label']}（{update['status_label']}）",
            link=f"/requests/{row.id}",
            dedupe_key=key,
            immediate=True,
        )
