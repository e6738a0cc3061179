"""在线服务: residents' requests (证明/报修/求助) in their committee's queue.

A request lands in the queue of the committee the resident lives in when submitting it, with a
due date by category (setting ``request_due_days``). The committee replies and moves it through
已提交 → 已受理 → 办理中 → 已办结 (or 不予受理); each reply notifies the resident at once.

A request may carry up to three photos (a broken lamp, a leaking pipe). Residents are not
platform users, so the plugin stores the photos itself (``actor=None``), readable by holders of
``interaction.serve`` on the committee at the kernel's URL, and serves them to the resident
through its own route after checking the request is theirs (:func:`photo_response`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, UnitRef, ValidationFailed
from shequyun_sdk.attachments import AttachmentRef
from sqlmodel import Session, col, select
from starlette.responses import Response

from . import files
from .core import SERVE, Errors, Viewer, choice, mask_name, now, text, today
from .files import Upload
from .models import RequestReply, ServiceRequest
from .notify import notify

__all__ = ["CATEGORIES", "STATUSES", "cadre_reply", "mine", "queue", "submit"]

CATEGORIES = {"certificate": "证明", "repair": "报修", "help": "求助"}
STATUSES = {
    "submitted": "已提交",
    "accepted": "已受理",
    "in_progress": "办理中",
    "done": "已办结",
    "rejected": "不予受理",
}
CLOSED = {"done", "rejected"}
DEFAULT_DUE_DAYS = {"certificate": 3, "repair": 5, "help": 3}


def submit(
    platform: Platform,
    viewer: Viewer,
    raw: Mapping[str, Any],
    due_days: Mapping[str, int],
    photos: Sequence[Upload] = (),
) -> ServiceRequest:
    """File a request in the queue of the resident's committee, with up to three photos."""
    ref = viewer.resident
    if ref is None:
        raise Forbidden("请先完成实名核验，核验后才能办理在线服务", code="not_verified")
    errors = Errors()
    category = choice(raw, "category", "服务类别", CATEGORIES, errors)
    title = text(raw, "title", "事项", errors, min_length=2, max_length=80)
    body = text(raw, "body", "详细说明", errors, max_length=2000)
    errors.raise_if_any()
    days = int(due_days.get(category, DEFAULT_DUE_DAYS[category]))
    with platform.session() as session:
        row = ServiceRequest(
            unit_id=ref.committee.id,
            unit_name=ref.committee.name,
            category=category,
            title=title,
            body=body,
            resident_id=ref.id,
            resident_name=ref.name,
            address_label=ref.address_label or "",
            assisted_by=viewer.assisted_by,
            due_on=today() + timedelta(days=days),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        _store_photos(platform, session, row, ref.committee, photos)
        if viewer.assistant is not None:
            platform.audit(
                session,
                "interaction.assisted_request",
                actor=viewer.assistant,
                target_type="interaction_request",
                target_id=row.id,
                detail={"resident_id": ref.id, "category": category},
            )
        platform.publish(
            session,
            "interaction.request.submitted",
            {
                "request_id": row.id,
                "unit_code": ref.committee.code,
                "unit_id": row.unit_id,
                "category": category,
            },
        )
        return row


def mine(platform: Platform, viewer: Viewer) -> list[ServiceRequest]:
    if viewer.resident is None:
        return []
    with platform.session() as session:
        return list(
            session.exec(
                select(ServiceRequest)
                .where(ServiceRequest.resident_id == viewer.resident.id)
                .order_by(col(ServiceRequest.id).desc())
            )
        )


def own(
    platform: Platform, viewer: Viewer, request_id: int
) -> tuple[ServiceRequest, list[RequestReply]]:
    """A request of the viewer's own, with its replies; NotFound for anyone else's."""
    with platform.session() as session:
        row = session.get(ServiceRequest, request_id)
        if row is None or viewer.resident is None or row.resident_id != viewer.resident.id:
            raise NotFound("找不到该服务申请")
        return row, _replies(session, request_id)


def _store_photos(
    platform: Platform,
    session: Session,
    row: ServiceRequest,
    committee: UnitRef,
    photos: Sequence[Upload],
) -> list[AttachmentRef]:
    assert row.id is not None
    return files.attach(
        platform,
        session,
        target_type="request",
        target_id=row.id,
        owner_ref=f"request:{row.id}",
        unit=committee,
        actor=None,
        uploads=photos,
        read_permissions=[SERVE],
        accept=files.PHOTO_KINDS,
        limit=files.MAX_REQUEST_PHOTOS,
        upload_field="photos",
    )


def add_photos(
    platform: Platform, viewer: Viewer, request_id: int, photos: Sequence[Upload]
) -> list[AttachmentRef]:
    """Add photos to one's own open request (three in all at most)."""
    if not photos:
        raise ValidationFailed("请选择要上传的照片", field="photos")
    with platform.session() as session:
        row = session.get(ServiceRequest, request_id)
        ref = viewer.resident
        if row is None or ref is None or row.resident_id != ref.id:
            raise NotFound("找不到该服务申请")
        if row.status in CLOSED:
            raise Conflict("该申请已结束，不能再添加照片")
        _store_photos(platform, session, row, ref.committee, photos)
        if viewer.assistant is not None:
            platform.audit(
                session,
                "interaction.assisted_photos",
                actor=viewer.assistant,
                target_type="interaction_request",
                target_id=row.id,
                detail={"resident_id": ref.id, "photos": len(photos)},
            )
        return files.listed(platform, session, "request", request_id)


def photos_of(platform: Platform, request_id: int) -> list[AttachmentRef]:
    """The photos of a request; the caller has checked that its reader may see the request."""
    return files.of(platform, "request", request_id)


def photo_response(
    platform: Platform, viewer: Viewer, request_id: int, attachment_id: str, download: bool
) -> Response:
    """A photo of one's own request; NotFound for anyone else's, or a file not on it."""
    with platform.session() as session:
        row = session.get(ServiceRequest, request_id)
        if row is None or viewer.resident is None or row.resident_id != viewer.resident.id:
            raise NotFound("找不到该服务申请")
        found = (
            platform.get_attachment(session, attachment_id)
            if files.holds(session, "request", request_id, attachment_id)
            else None
        )
        if found is None:
            raise NotFound("找不到该照片", field="attachment_id")
        return platform.attachment_response(session, found, download=download)


def resident_reply(
    platform: Platform, viewer: Viewer, request_id: int, raw: Mapping[str, Any]
) -> None:
    errors = Errors()
    body = text(raw, "body", "补充说明", errors, max_length=1000)
    errors.raise_if_any()
    row, _ = own(platform, viewer, request_id)
    if row.status in CLOSED:
        raise Conflict("该申请已结束，如需继续办理请重新提交")
    assert viewer.resident is not None
    with platform.session() as session:
        session.add(
            RequestReply(
                request_id=request_id,
                author_kind="resident",
                author=mask_name(viewer.resident.name),
                body=body,
                assisted_by=viewer.assisted_by,
            )
        )


def _replies(session: Session, request_id: int) -> list[RequestReply]:
    return list(
        session.exec(
            select(RequestReply)
            .where(RequestReply.request_id == request_id)
            .order_by(col(RequestReply.id))
        )
    )


def queue(platform: Platform, actor: Actor, status: str | None = None) -> list[ServiceRequest]:
    """The requests of the committees the cadre serves, open ones first, by due date."""
    with platform.session() as session:
        query = select(ServiceRequest).where(
            platform.scope_filter(actor, SERVE, ServiceRequest.unit_id)
        )
        if status == "open":
            query = query.where(col(ServiceRequest.status).not_in(CLOSED))
        elif status in STATUSES:
            query = query.where(ServiceRequest.status == status)
        return list(
            session.exec(
                query.order_by(col(ServiceRequest.due_on), col(ServiceRequest.id)).limit(500)
            )
        )


def for_cadre(
    platform: Platform, actor: Actor, request_id: int
) -> tuple[ServiceRequest, list[RequestReply]]:
    with platform.session() as session:
        row = session.exec(
            select(ServiceRequest)
            .where(ServiceRequest.id == request_id)
            .where(platform.scope_filter(actor, SERVE, ServiceRequest.unit_id))
        ).first()
        if row is None:
            raise NotFound("找不到该服务申请")
        return row, _replies(session, request_id)


def cadre_reply(
    platform: Platform, actor: Actor, request_id: int, raw: Mapping[str, Any]
) -> ServiceRequest:
    errors = Errors()
    body = text(raw, "body", "答复", errors, max_length=2000, required=False)
    status = raw.get("status") or None
    if status is not None and (not isinstance(status, str) or status not in STATUSES):
        errors.add("status", "请选择办理状态")
    if not body and status is None:
        errors.add("body", "请填写答复或选择新的办理状态")
    errors.raise_if_any()
    with platform.session() as session:
        row = session.exec(
            select(ServiceRequest)
            .where(ServiceRequest.id == request_id)
            .where(platform.scope_filter(actor, SERVE, ServiceRequest.unit_id))
        ).first()
        if row is None:
            raise NotFound("找不到该服务申请")
        if row.status in CLOSED:
            raise Conflict("该申请已结束", field="status")
        changed = status is not None and status != row.status
        session.add(
            RequestReply(
                request_id=request_id,
                author_kind="cadre",
                author=f"{row.unit_name}",
                body=body or f"状态更新为「{STATUSES[str(status)]}」",
                status_to=str(status) if changed else None,
            )
        )
        if changed:
            row.status = str(status)
            if row.status in CLOSED:
                row.closed_at = now()
        row.updated_at = now()
        session.add(row)
        platform.audit(
            session,
            "interaction.request_replied",
            actor=actor,
            target_type="interaction_request",
            target_id=row.id,
            detail={"status": row.status},
        )
        notify(
            platform,
            session,
            row.resident_id,
            kind="request.replied",
            title=f"您的申请「{row.title}」有新答复（{STATUSES[row.status]}）",
            link=f"/requests/{row.id}",
            dedupe_key=f"request-reply:{row.id}:{row.updated_at.timestamp()}",
            immediate=True,
        )
        return row


def overdue(row: ServiceRequest) -> bool:
    return row.status not in CLOSED and row.due_on < today()


def as_dict(
    row: ServiceRequest,
    replies: list[RequestReply] | None = None,
    photos: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "category": row.category,
        "category_label": CATEGORIES[row.category],
        "title": row.title,
        "body": row.body,
        "status": row.status,
        "status_label": STATUSES[row.status],
        "committee": row.unit_name,
        "due_on": row.due_on.isoformat(),
        "overdue": overdue(row),
        "assisted_by": row.assisted_by,
        "created_at": row.created_at.isoformat(),
        "case": None
        if row.escalated_at is None
        else {
            "number": row.case_number,
            "status": row.case_status,
            "status_label": row.case_status_label,
            "escalated_at": row.escalated_at.isoformat(),
        },
    }
    if photos is not None:
        data["photos"] = photos
    if replies is not None:
        data["replies"] = [
            {
                "author_kind": r.author_kind,
                "author": r.author,
                "body": r.body,
                "status_to": r.status_to,
                "created_at": r.created_at.isoformat(),
            }
            for r in replies
        ]
    return data
