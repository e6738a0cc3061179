"""议事厅: topics, ballots, comments, closing and the recount.

Who may vote is decided from the resident record at the moment of voting (:func:`refusal`):
the committee, the building or household when the topic lists them, age 18, and under the
household rule a household on record. Each voter has at most one ballot per topic — the
``(topic_id, voter_key)`` unique constraint, written with one INSERT .. ON CONFLICT DO UPDATE —
so concurrent double votes of one resident, or of two members of one household under the
household rule, count once; changing one's vote rewrites the ballot until the topic closes.
Closing and counting are in :mod:`.tally`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, ValidationFailed
from shequyun_sdk.params import parse_int
from shequyun_sdk.residents import ResidentRef
from sqlalchemy import func
from sqlmodel import Session, col, select

from .core import DELIBERATE, Errors, Viewer, choice, end_of_day, flag, mask_name, now, text
from .core import upsert as upsert_row
from .models import Ballot, Topic, TopicComment, aware
from .tally import ABSTAIN, settle

__all__ = [
    "RULES",
    "SCOPES",
    "STANCES",
    "cast_vote",
    "in_scope",
    "open_topic",
    "refusal",
]

RULES = {"resident": "一人一票", "household": "一户一票"}
SCOPES = {"committee": "本居委全体居民", "buildings": "指定楼栋", "households": "指定户"}
STANCES = {"for": "支持", "neutral": "中立", "against": "反对"}
MAX_OPTIONS = 10


# -- opening -----------------------------------------------------------------------------------


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.replace("，", "\n").replace(",", "\n").splitlines()
    elif isinstance(value, Sequence):
        parts = [str(v) for v in value]
    else:
        parts = []
    return [p.strip() for p in parts if str(p).strip()]


def _building_keys(value: Any) -> list[tuple[str, str]]:
    """``[[compound, building], ...]`` or ``["compound|building", ...]`` (forms send the latter)."""
    items = value if isinstance(value, list | tuple) else ([value] if value else [])
    keys = []
    for item in items:
        if isinstance(item, str) and "|" in item:
            compound, _, building = item.rpartition("|")
            keys.append((compound.strip(), building.strip()))
        elif isinstance(item, list | tuple) and len(item) == 2:
            keys.append((str(item[0]).strip(), str(item[1]).strip()))
        else:
            keys.append(("", ""))
    return keys


def _parse_close(raw: Any) -> datetime | None:
    if isinstance(raw, str) and raw.strip():
        value = raw.strip()
        try:
            if len(value) == 10:
                return end_of_day(date.fromisoformat(value))
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return aware(moment)
    return None


def clean_topic(
    platform: Platform, session: Session, unit_id: int, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Typed values of a new topic, or ValidationFailed naming every problem."""
    errors = Errors()
    values: dict[str, Any] = {
        "title": text(raw, "title", "议题标题", errors, min_length=2, max_length=120),
        "body": text(raw, "body", "议题说明", errors, max_length=5000),
    }
    options = _lines(raw.get("options"))
    if len(options) < 2 or len(options) > MAX_OPTIONS:
        errors.add("options", f"请列出 2 到 {MAX_OPTIONS} 个选项，每行一个")
    elif len(set(options)) != len(options) or any(len(o) > 40 for o in options):
        errors.add("options", "选项不能重复，每个不超过 40 个字")
    values["options"] = options
    values["rule"] = choice(raw, "rule", "表决规则", RULES, errors)
    scope_kind = choice(raw, "scope_kind", "参与范围", SCOPES, errors)
    values["scope_kind"] = scope_kind
    scope_values: list[Any] = []
    if scope_kind == "buildings":
        known = {b.key for b in platform.resident_buildings(session, unit_id)}
        keys = _building_keys(raw.get("buildings"))
        if not keys:
            errors.add("buildings", "请选择参与的楼栋")
        elif any(k not in known for k in keys):
            errors.add("buildings", "所选楼栋不在本居委的居民档案中")
        scope_values = [list(k) for k in dict.fromkeys(keys)]
    elif scope_kind == "households":
        numbers = _lines(raw.get("households"))
        if not numbers:
            errors.add("households", "请填写参与的户号，用逗号或换行分隔")
        scope_values = list(dict.fromkeys(numbers))
    values["scope_values"] = scope_values
    values["threshold_num"] = values["threshold_den"] = None
    threshold = str(raw.get("threshold") or "").strip()
    if threshold:
        num, _, den = threshold.partition("/")
        try:
            fraction = parse_int(num, "threshold", low=1), parse_int(den, "threshold", high=100)
        except ValidationFailed:
            fraction = None
        if fraction is None or fraction[0] > fraction[1]:
            errors.add("threshold", "通过门槛应写成分数，如 2/3；不设门槛请留空")
        else:
            values["threshold_num"], values["threshold_den"] = fraction
    closes_at = _parse_close(raw.get("closes_at") or raw.get("closes_on"))
    if closes_at is None:
        errors.add("closes_on", "请填写截止日期，如 2026-12-31")
    elif closes_at <= now():
        errors.add("closes_on", "截止时间应晚于现在")
    values["closes_at"] = closes_at
    values["secret"] = flag(raw, "secret")
    values["allow_abstain"] = flag(raw, "allow_abstain")
    errors.raise_if_any()
    return values


def open_topic(platform: Platform, actor: Actor, raw: Mapping[str, Any]) -> Topic:
    unit = actor.unit
    if unit is None or unit.level != "committee" or not platform.can(actor, DELIBERATE, unit):
        raise Forbidden("只有居委干部可以发起本居委的议题")
    with platform.session() as session:
        values = clean_topic(platform, session, unit.id, raw)
        topic = Topic(
            unit_id=unit.id,
            unit_code=unit.code,
            unit_name=unit.name,
            opens_at=now(),
            created_by=actor.username,
            **values,
        )
        session.add(topic)
        session.flush()
        platform.audit(
            session,
            "interaction.topic_opened",
            actor=actor,
            target_type="interaction_topic",
            target_id=topic.id,
            detail={"title": topic.title, "rule": topic.rule, "scope": topic.scope_kind},
        )
        platform.publish(
            session,
            "interaction.topic.opened",
            {"topic_id": topic.id, "unit_id": unit.id, "unit_code": unit.code},
        )
        return topic


# -- who may take part -------------------------------------------------------------------------


def in_scope(topic: Topic, ref: ResidentRef) -> bool:
    """Whether the resident's placement is inside the topic's participation scope."""
    if ref.committee.id != topic.unit_id:
        return False
    if topic.scope_kind == "buildings":
        return ref.building_key is not None and list(ref.building_key) in topic.scope_values
    if topic.scope_kind == "households":
        return ref.household_number is not None and ref.household_number in topic.scope_values
    return True


def visible(topic: Topic, viewer: Viewer) -> bool:
    """Topics are seen by the verified residents of their committee, and no one else."""
    return viewer.resident is not None and viewer.resident.committee.id == topic.unit_id


def refusal(topic: Topic, viewer: Viewer) -> str | None:
    """Why ``viewer`` may not vote on ``topic`` now, or None when they may."""
    ref = viewer.resident
    if ref is None:
        return "请先完成实名核验，核验后才能参与表决"
    if topic.status != "open" or aware(topic.closes_at) <= now():
        return "表决已截止"
    if not in_scope(topic, ref):
        return "您不在本议题的参与范围内"
    if not ref.adult:
        return "未满 18 周岁的居民不参加表决"
    if topic.rule == "household" and ref.household_id is None:
        return "本议题一户一票，您的居民档案未登记户，请联系居委会"
    return None


def voter_key(topic: Topic, ref: ResidentRef) -> str:
    if topic.rule == "household":
        return f"h{ref.household_id}"
    return f"r{ref.id}"


def get_visible(session: Session, topic_id: int, viewer: Viewer) -> Topic:
    topic = session.get(Topic, topic_id)
    if topic is None or not visible(topic, viewer):
        raise NotFound("找不到该议题")
    return topic


def for_viewer(platform: Platform, viewer: Viewer) -> list[Topic]:
    if viewer.resident is None:
        return []
    with platform.session() as session:
        topics = list(
            session.exec(
                select(Topic)
                .where(Topic.unit_id == viewer.resident.committee.id)
                .order_by(col(Topic.status).desc(), col(Topic.closes_at).desc())
                .limit(100)
            )
        )
        for topic in topics:
            settle(platform, session, topic)
        return topics


# -- voting ------------------------------------------------------------------------------------


def cast_vote(platform: Platform, topic_id: int, viewer: Viewer, option: Any) -> Ballot:
    """Cast or change the viewer's ballot (their household's, under the household rule)."""
    if viewer.resident is None:
        raise Forbidden("请先完成实名核验，核验后才能参与表决", code="not_verified")
    with platform.session() as session:
        topic = get_visible(session, topic_id, viewer)
        if topic.status != "open" or aware(topic.closes_at) <= now():
            raise Conflict("表决已截止", code="closed")
        if option == "abstain" and topic.allow_abstain:
            option = ABSTAIN
        else:
            try:
                option = parse_int(option, "option")
            except ValidationFailed:
                raise ValidationFailed("请选择一个选项", field="option") from None
            if not 0 <= option < len(topic.options):
                raise ValidationFailed("所选选项不存在", field="option")
        reason = refusal(topic, viewer)
        if reason is not None:
            raise Forbidden(reason, code="not_eligible")
        ref = viewer.resident
        assert ref is not None and topic.id is not None
        moment = now()
        key = voter_key(topic, ref)
        upsert_row(
            session,
            Ballot,
            {
                "topic_id": topic.id,
                "voter_key": key,
                "resident_id": ref.id,
                "option": option,
                "assisted_by": viewer.assisted_by,
                "cast_at": moment,
                "changed_at": moment,
                "changes": 0,
            },
            conflict=("topic_id", "voter_key"),
            update={
                "option": option,
                "resident_id": ref.id,
                "assisted_by": viewer.assisted_by,
                "changed_at": moment,
                "changes": Ballot.__table__.c.changes + 1,  # type: ignore[attr-defined]
            },
        )
        if viewer.assistant is not None:
            # The choice itself stays out of the log: ballots may be secret.
            platform.audit(
                session,
                "interaction.assisted_vote",
                actor=viewer.assistant,
                target_type="interaction_topic",
                target_id=topic.id,
                detail={"resident_id": ref.id},
            )
        ballot = session.exec(
            select(Ballot).where(Ballot.topic_id == topic.id, Ballot.voter_key == key)
        ).one()
        return ballot


def ballot_of(session: Session, topic: Topic, viewer: Viewer) -> Ballot | None:
    ref = viewer.resident
    if ref is None or (topic.rule == "household" and ref.household_id is None):
        return None
    return session.exec(
        select(Ballot).where(Ballot.topic_id == topic.id, Ballot.voter_key == voter_key(topic, ref))
    ).first()


def comment(
    platform: Platform, topic_id: int, viewer: Viewer, raw: Mapping[str, Any]
) -> TopicComment:
    errors = Errors()
    body = text(raw, "body", "意见", errors, min_length=2, max_length=1000)
    stance = choice(raw, "stance", "立场", STANCES, errors)
    errors.raise_if_any()
    with platform.session() as session:
        topic = get_visible(session, topic_id, viewer)
        ref = viewer.resident
        assert ref is not None and topic.id is not None
        if topic.status != "open":
            raise Conflict("议题已结束，不能再发表意见")
        if not in_scope(topic, ref):
            raise Forbidden("您不在本议题的参与范围内")
        row = TopicComment(
            topic_id=topic.id,
            unit_id=topic.unit_id,
            resident_id=ref.id,
            author=_author(ref),
            stance=stance,
            body=body,
            assisted_by=viewer.assisted_by,
        )
        session.add(row)
        session.flush()
        if viewer.assistant is not None:
            platform.audit(
                session,
                "interaction.assisted_comment",
                actor=viewer.assistant,
                target_type="interaction_topic",
                target_id=topic.id,
                detail={"resident_id": ref.id},
            )
        return row


def _author(ref: ResidentRef) -> str:
    where = f"{ref.building}号楼 " if ref.building else ""
    return f"{where}{mask_name(ref.name)}"


def comments(session: Session, topic_id: int, *, everything: bool = False) -> list[TopicComment]:
    """The topic's comments residents see; ``everything`` adds hidden and removed ones."""
    query = select(TopicComment).where(TopicComment.topic_id == topic_id)
    if not everything:
        query = query.where(TopicComment.status == "visible")
    return list(session.exec(query.order_by(col(TopicComment.id))))


def stance_counts(session: Session, topic_id: int) -> dict[str, int]:
    """Stances of the comments residents see (hidden and removed ones do not count)."""
    rows = session.exec(
        select(TopicComment.stance, func.count())
        .where(TopicComment.topic_id == topic_id, TopicComment.status == "visible")
        .group_by(TopicComment.stance)
    ).all()
    found = dict(rows)
    return {key: int(found.get(key, 0)) for key in STANCES}


def withdraw_moved(platform: Platform, session: Session, resident_id: int) -> list[int]:
    """Withdraw a moved resident's own ballots on open topics now outside their scope.

    Under the household rule the ballot is the household's, which did not move: it stays.
    """
    ref = platform.resident_refs(session, [resident_id]).get(resident_id)
    withdrawn = []
    rows = session.exec(
        select(Ballot, Topic)
        .join(Topic, Topic.id == Ballot.topic_id)  # type: ignore[arg-type]
        .where(Ballot.voter_key == f"r{resident_id}", Topic.status == "open")
    ).all()
    for ballot, topic in rows:
        if ref is None or not ref.active or not in_scope(topic, ref):
            session.delete(ballot)
            assert topic.id is not None
            withdrawn.append(topic.id)
    return withdrawn


def summary(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "unit": {"code": topic.unit_code, "name": topic.unit_name},
        "title": topic.title,
        "body": topic.body,
        "options": list(topic.options),
        "rule": topic.rule,
        "rule_label": RULES[topic.rule],
        "scope_kind": topic.scope_kind,
        "scope_values": topic.scope_values,
        "threshold": f"{topic.threshold_num}/{topic.threshold_den}"
        if topic.threshold_num
        else None,
        "secret": topic.secret,
        "allow_abstain": topic.allow_abstain,
        "opens_at": aware(topic.opens_at).isoformat(),
        "closes_at": aware(topic.closes_at).isoformat(),
        "status": topic.status,
        "result": topic.result,
    }
