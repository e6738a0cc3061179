"""邻里互动: posts and comments among the verified residents of a committee, with reporting.

Reporting and moderation cover three kinds of item: neighbours' posts (``post``), comments on
them (``comment``) and comments on 议事厅 topics (``topic_comment``). An item is hidden
automatically once it has ``auto_hide_reports`` unresolved reports (a setting, 3 by default),
each resident reporting an item at most once (a unique constraint). Moderators of the committee
see reported and hidden items in one queue and restore or remove them; every decision is kept
in ``interaction_moderation`` and in the platform's audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, ValidationFailed
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .core import MODERATE, Errors, Viewer, choice, mask_name, text
from .models import ModerationDecision, Post, PostComment, Report, Topic, TopicComment
from .notify import notify

__all__ = ["DECISIONS", "comment", "create_post", "decide", "posts_for", "queue", "report"]

DECISIONS = {"restore": "恢复显示", "remove": "删除"}
TARGETS: dict[str, Any] = {"post": Post, "comment": PostComment, "topic_comment": TopicComment}
TARGET_LABELS = {"post": "帖子", "comment": "评论", "topic_comment": "议题意见"}


def _author(viewer: Viewer) -> str:
    ref = viewer.resident
    assert ref is not None
    where = f"{ref.building}号楼 " if ref.building else ""
    return f"{where}{mask_name(ref.name)}"


def _require_verified(viewer: Viewer) -> None:
    if viewer.resident is None:
        raise Forbidden("请先完成实名核验，核验后才能参与邻里互动", code="not_verified")


@dataclass(frozen=True)
class Thread:
    post: Post
    comments: list[PostComment]


def posts_for(platform: Platform, viewer: Viewer, limit: int = 50) -> list[Thread]:
    """Visible posts of the viewer's committee, newest first, with their visible comments."""
    if viewer.resident is None:
        return []
    with platform.session() as session:
        posts = list(
            session.exec(
                select(Post)
                .where(Post.unit_id == viewer.resident.committee.id, Post.status == "visible")
                .order_by(col(Post.id).desc())
                .limit(limit)
            )
        )
        ids = [p.id for p in posts]
        by_post: dict[int, list[PostComment]] = {}
        if ids:
            for c in session.exec(
                select(PostComment)
                .where(col(PostComment.post_id).in_(ids), PostComment.status == "visible")
                .order_by(col(PostComment.id))
            ):
                by_post.setdefault(c.post_id, []).append(c)
    return [Thread(p, by_post.get(p.id or 0, [])) for p in posts]


def create_post(platform: Platform, viewer: Viewer, raw: Mapping[str, Any]) -> Post:
    _require_verified(viewer)
    errors = Errors()
    body = text(raw, "body", "内容", errors, min_length=2, max_length=1000)
    errors.raise_if_any()
    ref = viewer.resident
    assert ref is not None
    with platform.session() as session:
        post = Post(unit_id=ref.committee.id, resident_id=ref.id, author=_author(viewer), body=body)
        session.add(post)
        session.flush()
        _audit_assisted(platform, session, viewer, "post", post.id)
        return post


def comment(platform: Platform, viewer: Viewer, post_id: int, raw: Mapping[str, Any]) -> None:
    _require_verified(viewer)
    errors = Errors()
    body = text(raw, "body", "评论", errors, min_length=1, max_length=500)
    errors.raise_if_any()
    ref = viewer.resident
    assert ref is not None
    with platform.session() as session:
        post = session.get(Post, post_id)
        if post is None or post.unit_id != ref.committee.id or post.status != "visible":
            raise NotFound("找不到该帖子")
        row = PostComment(
            post_id=post_id,
            unit_id=post.unit_id,
            resident_id=ref.id,
            author=_author(viewer),
            body=body,
        )
        session.add(row)
        session.flush()
        _audit_assisted(platform, session, viewer, "comment", row.id)
        if post.resident_id != ref.id:
            notify(
                platform,
                session,
                post.resident_id,
                kind="post.comment",
                title=f"{row.author} 评论了您的帖子",
                link="/posts",
                dedupe_key=f"post-comment:{row.id}",
            )


def report(
    platform: Platform,
    viewer: Viewer,
    target_type: Any,
    target_id: Any,
    reason: Any,
    *,
    threshold: int,
) -> bool:
    """Report a post, a comment or a topic comment; True when this report made it hidden."""
    _require_verified(viewer)
    model = TARGETS.get(str(target_type))
    if model is None:
        raise ValidationFailed(
            "举报对象应为帖子（post）、评论（comment）或议题意见（topic_comment）",
            field="target_type",
        )
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise ValidationFailed("请指明举报的内容", field="target_id") from None
    why = reason.strip()[:200] if isinstance(reason, str) else ""
    ref = viewer.resident
    assert ref is not None
    table: Any = model
    try:
        with platform.session() as session:
            item = session.get(model, target_id)
            if item is None or item.unit_id != ref.committee.id or item.status != "visible":
                raise NotFound("找不到该内容")
            session.add(
                Report(
                    target_type=str(target_type),
                    target_id=target_id,
                    unit_id=item.unit_id,
                    reporter_id=ref.id,
                    reason=why,
                )
            )
            session.flush()
            # Counted and hidden by single statements, so concurrent reports cannot undercount.
            session.execute(
                update(table)
                .where(table.id == target_id)
                .values(report_count=table.report_count + 1)
                .execution_options(synchronize_session=False)
            )
            hidden = session.execute(
                update(table)
                .where(
                    table.id == target_id,
                    table.status == "visible",
                    table.report_count >= threshold,
                )
                .values(status="hidden", hidden_reason="reports")
                .execution_options(synchronize_session=False)
            )
            made_hidden = bool(hidden.rowcount)  # type: ignore[attr-defined]
            if made_hidden:
                # Hiding is a moderation decision taken by the rule, not by a moderator: the
                # audit log shows it beside the moderators' own.
                platform.audit(
                    session,
                    "interaction.content_hidden",
                    actor=None,
                    target_type=f"interaction_{target_type}",
                    target_id=target_id,
                    detail={"reports": threshold},
                )
                platform.publish(
                    session,
                    "interaction.content.hidden",
                    {
                        "target_type": target_type,
                        "target_id": target_id,
                        "unit_code": ref.committee.code,
                        "unit_id": item.unit_id,
                    },
                )
            return made_hidden
    except IntegrityError:
        raise Conflict("您已经举报过该内容", code="already_reported") from None


# -- moderation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    target_type: str
    item: Post | PostComment | TopicComment
    reasons: list[str]
    topic: Topic | None = None

    @property
    def label(self) -> str:
        return TARGET_LABELS[self.target_type]


def queue(platform: Platform, actor: Actor, limit: int = 100) -> list[QueueItem]:
    """Reported or automatically hidden items of the committees the moderator covers."""
    with platform.session() as session:
        items: list[QueueItem] = []
        for target_type, model in TARGETS.items():
            table: Any = model
            rows = session.exec(
                select(model)
                .where(platform.scope_filter(actor, MODERATE, table.unit_id))
                .where(
                    (table.report_count > 0)
                    | ((table.status == "hidden") & (table.hidden_reason == "reports"))
                )
                .where(table.status != "removed")
                .order_by(table.id)
                .limit(limit)
            ).all()
            topics = _topics_of(session, rows) if model is TopicComment else {}
            for row in rows:
                reasons = list(
                    session.exec(
                        select(Report.reason).where(
                            Report.target_type == target_type,
                            Report.target_id == row.id,
                            col(Report.resolved).is_(False),
                        )
                    )
                )
                topic = topics.get(row.topic_id) if model is TopicComment else None
                items.append(QueueItem(target_type, row, [r for r in reasons if r], topic))
        return items


def _topics_of(session: Session, rows: Any) -> dict[int, Topic]:
    ids = {row.topic_id for row in rows}
    if not ids:
        return {}
    return {t.id: t for t in session.exec(select(Topic).where(col(Topic.id).in_(ids))) if t.id}


def decide(
    platform: Platform, actor: Actor, target_type: Any, target_id: Any, raw: Mapping[str, Any]
) -> ModerationDecision:
    model = TARGETS.get(str(target_type))
    if model is None:
        raise NotFound("找不到该内容")
    errors = Errors()
    decision = choice(raw, "decision", "处理决定", DECISIONS, errors)
    note = text(raw, "note", "处理说明", errors, max_length=200, required=False)
    errors.raise_if_any()
    table: Any = model
    with platform.session() as session:
        item = session.exec(
            select(model)
            .where(table.id == int(target_id))
            .where(platform.scope_filter(actor, MODERATE, table.unit_id))
        ).first()
        if item is None or item.status == "removed":
            raise NotFound("找不到该内容")
        item.status = "visible" if decision == "restore" else "removed"
        item.hidden_reason = None if decision == "restore" else "moderator"
        item.report_count = 0
        session.add(item)
        for open_report in session.exec(
            select(Report).where(
                Report.target_type == target_type,
                Report.target_id == item.id,
                col(Report.resolved).is_(False),
            )
        ):
            open_report.resolved = True
            session.add(open_report)
        assert item.id is not None
        row = ModerationDecision(
            target_type=str(target_type),
            target_id=item.id,
            unit_id=item.unit_id,
            decision=decision,
            note=note,
            moderator_user_id=actor.user_id,
            moderator=actor.username,
        )
        session.add(row)
        platform.audit(
            session,
            "interaction.moderated",
            actor=actor,
            target_type=f"interaction_{target_type}",
            target_id=item.id,
            detail={"decision": decision, "note": note},
        )
        if decision == "remove":
            notify(
                platform,
                session,
                item.resident_id,
                kind="content.removed",
                title="您发布的内容经居委审核已删除" + (f"：{note}" if note else ""),
                link=f"/topics/{item.topic_id}" if target_type == "topic_comment" else "/posts",
                dedupe_key=f"removed:{target_type}:{item.id}",
                immediate=True,
            )
        return row


def decisions(platform: Platform, actor: Actor, limit: int = 50) -> list[ModerationDecision]:
    with platform.session() as session:
        return list(
            session.exec(
                select(ModerationDecision)
                .where(platform.scope_filter(actor, MODERATE, ModerationDecision.unit_id))
                .order_by(col(ModerationDecision.id).desc())
                .limit(limit)
            )
        )


def _audit_assisted(
    platform: Platform, session: Session, viewer: Viewer, what: str, target: int | None
) -> None:
    if viewer.assistant is not None and viewer.resident is not None:
        platform.audit(
            session,
            f"interaction.assisted_{what}",
            actor=viewer.assistant,
            target_type=f"interaction_{what}",
            target_id=target,
            detail={"resident_id": viewer.resident.id},
        )
