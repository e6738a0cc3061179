"""Campaigns and tasks: sending a form version to part of the city and collecting answers.

When a campaign opens, every open committee below its targets gets a task; that set is fixed
then (a committee closed later is marked ``withdrawn`` and stops counting), so completeness
never exceeds 100%. Cadres save drafts and submit; publishers and streets return submissions
with a comment; every step is in the task's history and leaves through the outbox as an event.
Submissions are idempotent by client key and validated by a compiled validator cached per form
version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import is_id
from sqlalchemy import case, exists, func, insert
from sqlmodel import Session, col, or_, select

from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .forms import PUBLISH
from .models import Campaign, CampaignTarget, FormVersion, Task, utcnow
from .tasks import FILL, RESULTS, REVIEW, WRITEBACK_TARGETS, TaskFlow, raise_invalid

__all__ = ["FILL", "RESULTS", "REVIEW", "CampaignService"]

ROSTER_FILTER_KEYS = {
    "tags", "age_min", "age_max", "registration", "compound", "building", "resident_ids",
}  # fmt: skip


class CampaignService(TaskFlow):
    """Campaigns: opening one, finding them, and (through :class:`~.tasks.TaskFlow`) tasks."""

    # -- opening ---------------------------------------------------------------------------

    def open(self, session: Session, actor: Actor | None, body: Mapping[str, Any]) -> Campaign:
        errors: list[dict[str, str]] = []
        form_id, number = body.get("form_id"), body.get("version")
        if not is_id(form_id):
            raise ValidationFailed("请指定表单 form_id（表单编号）", field="form_id")
        if not is_id(number):
            raise ValidationFailed("请指定表单版本 version（从 1 起的整数）", field="version")
        form, version = self.forms.get_version(session, actor, form_id, number)
        if version.status != "published":
            errors.append({"field": "version", "message": "只能下发已发布的表单版本"})
        title = body.get("title") or form.title
        if not isinstance(title, str) or len(title) > 120:
            errors.append({"field": "title", "message": "标题不能超过 120 个字"})
        instructions = body.get("instructions", "")
        if not isinstance(instructions, str) or len(instructions) > 5000:
            errors.append({"field": "instructions", "message": "填报说明不能超过 5000 个字"})
        starts_at = _datetime(body.get("starts_at")) if body.get("starts_at") else utcnow()
        deadline = _datetime(body.get("deadline"))
        if starts_at is None:
            errors.append(
                {"field": "starts_at", "message": "应为时间，如 2026-12-01T09:00:00+08:00"}
            )
        if deadline is None:
            errors.append(
                {"field": "deadline", "message": "请给出截止时间，如 2026-12-15T17:00:00+08:00"}
            )
        elif starts_at is not None and deadline <= max(starts_at, utcnow()):
            errors.append({"field": "deadline", "message": "截止时间应晚于开始时间和当前时间"})
        mode = body.get("mode", "unit")
        if mode not in ("unit", "roster"):
            errors.append(
                {
                    "field": "mode",
                    "message": "mode 应为 unit（每个居委一份）或 roster（按居民名单）",
                }
            )
        roster_filter = body.get("roster_filter") or {}
        writeback = body.get("writeback") or {}
        if mode == "roster":
            errors += _check_roster(roster_filter, writeback, version)
        elif roster_filter or writeback:
            errors.append(
                {"field": "roster_filter", "message": "只有按居民名单填报时才能设置筛选与回写"}
            )
        targets = self._targets(session, actor, body.get("targets"), errors)
        raise_invalid(errors)
        assert actor is not None and actor.unit is not None and version.id is not None
        assert starts_at is not None and deadline is not None and isinstance(title, str)
        campaign = Campaign(
            form_version_id=version.id,
            title=title.strip(),
            instructions=instructions,
            mode=mode,
            roster_filter=roster_filter,
            writeback=writeback,
            publisher_user_id=actor.user_id,
            publisher_unit_id=actor.unit.id,
            starts_at=starts_at,
            deadline=deadline,
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        for unit in targets:
            assert unit.id is not None
            session.add(CampaignTarget(campaign_id=campaign.id, unit_id=unit.id))
        committees = self._expected_committees(session, targets)
        if not committees:
            raise ValidationFailed("所选范围内没有正在运行的居村委会", field="targets")
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for unit in committees:
            ids = [int(p) for p in unit.path.strip("/").split("/")]
            rows.append(
                {
                    "campaign_id": campaign.id,
                    "unit_id": unit.id,
                    "district_id": ids[1] if len(ids) > 1 else None,
                    "street_id": ids[2] if len(ids) > 2 else None,
                    "status": "not_started",
                    "withdrawn": False,
                    "data": {},
                    "version": 1,
                    "updated_at": now,
                }
            )
        for start in range(0, len(rows), 1000):
            session.execute(insert(Task), rows[start : start + 1000])
        audit.record(
            session,
            "collection.campaign_opened",
            actor=actor,
            target_type="campaign",
            target_id=campaign.id,
            detail={"tasks": len(rows), "targets": [u.code for u in targets]},
        )
        self.events.publish(
            session,
            "collection.campaign.opened",
            {
                "campaign_id": campaign.id,
                "tasks": len(rows),
                "deadline": deadline.isoformat(),
            },
        )
        return campaign

    def _targets(
        self, session: Session, actor: Actor | None, raw: Any, errors: list[dict[str, str]]
    ) -> list[OrgUnit]:
        if (
            not isinstance(raw, list)
            or not raw
            or len(raw) > 500
            or not all(isinstance(c, str) for c in raw)
        ):
            errors.append({"field": "targets", "message": "请列出下发范围（1-500 个组织编码）"})
            return []
        units = list(session.exec(select(OrgUnit).where(col(OrgUnit.code).in_(raw))))
        by_code = {u.code: u for u in units}
        chosen: list[OrgUnit] = []
        for code in dict.fromkeys(raw):
            unit = by_code.get(code)
            if unit is None or not scope.can(actor, PUBLISH, unit_ref(unit)):
                errors.append(
                    {"field": "targets", "message": f"{code}：不存在或不在您的发布范围内"}
                )
            elif unit.closed_on is not None:
                errors.append({"field": "targets", "message": f"{unit.name} 已撤销"})
            else:
                chosen.append(unit)
        # A target inside another target adds nothing.
        return [
            u for u in chosen if not any(o is not u and u.path.startswith(o.path) for o in chosen)
        ]

    def _expected_committees(self, session: Session, targets: list[OrgUnit]) -> list[OrgUnit]:
        today = date.today()
        if not targets:
            return []
        query = (
            select(OrgUnit)
            .where(
                OrgUnit.level == "committee",
                or_(*[col(OrgUnit.path).startswith(t.path) for t in targets]),
                or_(col(OrgUnit.closed_on).is_(None), col(OrgUnit.closed_on) > today),
                or_(col(OrgUnit.opened_on).is_(None), col(OrgUnit.opened_on) <= today),
            )
            .order_by(col(OrgUnit.path))
        )
        return list(session.exec(query))

    # -- seeing ----------------------------------------------------------------------------

    def get(self, session: Session, actor: Actor | None, campaign_id: int) -> Campaign:
        """The campaign, if the actor has a task of it in scope or published within scope."""
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound("找不到该采集任务")
        publisher_unit = session.get(OrgUnit, campaign.publisher_unit_id)
        assert publisher_unit is not None
        if scope.can(actor, PUBLISH, unit_ref(publisher_unit)):
            return campaign
        for permission in (RESULTS, REVIEW, FILL):
            visible = session.exec(
                select(Task.id)
                .where(Task.campaign_id == campaign_id)
                .where(scope.scope_filter(actor, permission, Task.unit_id))
                .limit(1)
            ).first()
            if visible is not None:
                return campaign
        raise NotFound("找不到该采集任务")

    def listing(
        self, session: Session, actor: Actor | None, *, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The campaigns an actor follows, newest first, each with the actor's part of it.

        A campaign is listed when the actor published it within their grant or when it reaches
        their subtree (a task of it within their ``results`` scope): a street admin finds the
        city's campaign here. ``expected`` and ``submitted`` count only the tasks in scope, so
        each level sees its own part of the progress; ``published_here`` tells the two apart.
        """
        reaches = exists(
            select(Task.id)
            .where(Task.campaign_id == Campaign.id, Task.withdrawn == False)  # noqa: E712
            .where(scope.scope_filter(actor, RESULTS, Task.unit_id))
        )
        published = scope.scope_filter(actor, PUBLISH, Campaign.publisher_unit_id)
        campaigns = list(
            session.exec(
                select(Campaign, case((published, 1), else_=0))
                .where(or_(published, reaches))
                .order_by(col(Campaign.id).desc())
                .limit(limit)
            )
        )
        ids = [c.id for c, _own in campaigns]
        counts = {
            cid: (int(expected), int(done or 0))
            for cid, expected, done in session.exec(
                select(  # type: ignore[call-overload]
                    Task.campaign_id,
                    func.count(),
                    func.sum(case((col(Task.status) == "submitted", 1), else_=0)),
                )
                .where(col(Task.campaign_id).in_(ids), Task.withdrawn == False)  # noqa: E712
                .where(scope.scope_filter(actor, RESULTS, Task.unit_id))
                .group_by(col(Task.campaign_id))
            )
        }
        return [
            {
                "campaign": c,
                "published_here": bool(own),
                "expected": counts.get(c.id or 0, (0, 0))[0],
                "submitted": counts.get(c.id or 0, (0, 0))[1],
            }
            for c, own in campaigns
        ]

    def my_tasks(
        self, session: Session, actor: Actor | None, *, status: str | None = None, limit: int = 200
    ) -> list[tuple[Task, Campaign, OrgUnit]]:
        query = (
            select(Task, Campaign, OrgUnit)
            .join(Campaign, col(Campaign.id) == Task.campaign_id)
            .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
            .where(scope.scope_filter(actor, FILL, Task.unit_id))
            .where(Task.withdrawn == False, Campaign.status == "open")  # noqa: E712
            .order_by(col(Campaign.deadline), col(Task.id))
            .limit(limit)
        )
        if status:
            query = query.where(Task.status == status)
        return list(session.exec(query))

    def task_summary(self, session: Session, actor: Actor | None) -> list[dict[str, Any]]:
        """Per open campaign, how many of the tasks ``actor`` reaches are in each status:
        what a street, district or the city reads instead of one row per committee."""
        rows = session.exec(
            select(  # type: ignore[call-overload]
                col(Campaign.id),
                col(Campaign.title),
                col(Campaign.deadline),
                col(Task.status),
                func.count(),
            )
            .join(Campaign, col(Campaign.id) == Task.campaign_id)
            .where(scope.scope_filter(actor, FILL, Task.unit_id))
            .where(Task.withdrawn == False, Campaign.status == "open")  # noqa: E712
            .group_by(
                col(Campaign.id), col(Campaign.title), col(Campaign.deadline), col(Task.status)
            )
        ).all()
        found: dict[int, dict[str, Any]] = {}
        for cid, title, deadline, status, n in rows:
            entry = found.setdefault(
                cid, {"id": cid, "title": title, "deadline": deadline, "by_status": {}}
            )
            entry["by_status"][status] = int(n)
        return sorted(found.values(), key=lambda e: (e["deadline"], e["id"]))

    # -- filling ---------------------------------------------------------------------------

    # -- helpers ---------------------------------------------------------------------------


def _check_roster(spec: Any, writeback: Any, version: FormVersion) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not isinstance(spec, dict) or not set(spec) <= ROSTER_FILTER_KEYS:
        errors.append(
            {
                "field": "roster_filter",
                "message": f"名单筛选只能使用：{'、'.join(sorted(ROSTER_FILTER_KEYS))}",
            }
        )
    else:
        for key in ("age_min", "age_max"):
            if key in spec and (not isinstance(spec[key], int) or not 0 <= spec[key] <= 150):
                errors.append({"field": f"roster_filter.{key}", "message": "应为 0-150 的整数"})
        if "tags" in spec and (
            not isinstance(spec["tags"], list) or not all(isinstance(t, str) for t in spec["tags"])
        ):
            errors.append({"field": "roster_filter.tags", "message": "应为标签名称的列表"})
        ids = spec.get("resident_ids")
        if ids is not None and (
            not isinstance(ids, list)
            or len(ids) > 200_000
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            errors.append({"field": "roster_filter.resident_ids", "message": "应为居民编号的列表"})
    fields = set(version.schema_.get("properties") or {})
    if not isinstance(writeback, dict):
        errors.append({"field": "writeback", "message": "应为 {表单字段: 居民字段} 对象"})
    else:
        for field, target in writeback.items():
            if field not in fields:
                errors.append({"field": f"writeback.{field}", "message": "表单中没有这个字段"})
            if target not in WRITEBACK_TARGETS and not str(target).startswith("attributes."):
                errors.append(
                    {
                        "field": f"writeback.{field}",
                        "message": f"只能回写到：{'、'.join(sorted(WRITEBACK_TARGETS))} 或扩展属性",
                    }
                )
    return errors


def _datetime(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
