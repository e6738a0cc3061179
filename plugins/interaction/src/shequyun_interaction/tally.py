"""Closing a topic and counting its ballots: the published result and the recount.

A topic closes when a cadre closes it or, the first time anyone looks at it after its deadline,
by itself (:func:`settle`). The result — counts, winner, ballots, electorate, turnout and whether
the threshold was met — is stored on the topic and published as ``interaction.topic.closed``.
:func:`recount` counts the stored ballots again and compares them with the published result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform
from sqlalchemy import func
from sqlmodel import Session, col, select

from .core import DELIBERATE, now
from .models import Ballot, Topic, aware

__all__ = [
    "ABSTAIN",
    "close_topic",
    "count_ballots",
    "decide",
    "electorate",
    "needed",
    "recount",
    "settle",
    "standing",
]


#: The stored option of a 弃权 ballot.
ABSTAIN = -1


def count_ballots(session: Session, topic: Topic) -> tuple[list[int], int]:
    """Votes per option, and the abstentions."""
    rows = session.exec(
        select(Ballot.option, func.count())
        .where(Ballot.topic_id == topic.id)
        .group_by(col(Ballot.option))
    ).all()
    counts = [0] * len(topic.options)
    abstained = 0
    for option, n in rows:
        if 0 <= option < len(counts):
            counts[option] = int(n)
        elif option == ABSTAIN:
            abstained = int(n)
    return counts, abstained


def electorate(platform: Platform, session: Session, topic: Topic) -> int:
    return platform.count_electorate(
        session,
        topic.unit_id,
        per=topic.rule,
        buildings=[(c, b) for c, b in topic.scope_values]
        if topic.scope_kind == "buildings"
        else (),
        household_numbers=topic.scope_values if topic.scope_kind == "households" else (),
    )


def decide(
    counts: Sequence[int],
    electorate_size: int,
    num: int | None,
    den: int | None,
    abstained: int = 0,
) -> dict[str, Any]:
    """Winner (None on a tie or without votes), turnout and whether the threshold was met.

    Abstentions count in the turnout and for no option: the threshold is always a share of the
    whole electorate, so abstaining weighs like not voting for the winner.
    """
    ballots = sum(counts) + abstained
    top = max(counts) if counts else 0
    leaders = [i for i, n in enumerate(counts) if n == top]
    winner = leaders[0] if top > 0 and len(leaders) == 1 else None
    passed = None
    if num is not None and den is not None:
        passed = winner is not None and counts[winner] * den >= num * electorate_size
    return {
        "counts": list(counts),
        "abstained": abstained,
        "ballots": ballots,
        "electorate": electorate_size,
        "turnout": round(ballots / electorate_size, 4) if electorate_size else 0.0,
        "winner": winner,
        "threshold": f"{num}/{den}" if num is not None else None,
        "passed": passed,
    }


def close_topic(
    platform: Platform, actor: Actor | None, topic_id: int, *, session: Session | None = None
) -> Topic:
    """Close a topic (a cadre early, or the system at its deadline) and publish the result."""
    if session is None:
        with platform.session() as own:
            return close_topic(platform, actor, topic_id, session=own)
    query = select(Topic).where(Topic.id == topic_id)
    if actor is not None:
        query = query.where(platform.scope_filter(actor, DELIBERATE, Topic.unit_id))
    topic = session.exec(query).first()
    if topic is None:
        raise NotFound("找不到该议题")
    if topic.status == "closed":
        raise Conflict("议题已经结束")
    counts, abstained = count_ballots(session, topic)
    result = decide(
        counts,
        electorate(platform, session, topic),
        topic.threshold_num,
        topic.threshold_den,
        abstained,
    )
    moment = now()
    result["closed_at"] = moment.isoformat()
    topic.status = "closed"
    topic.closed_at = moment
    topic.closed_by = actor.username if actor is not None else "系统（到期）"
    topic.result = result
    session.add(topic)
    platform.audit(
        session,
        "interaction.topic_closed",
        actor=actor,
        target_type="interaction_topic",
        target_id=topic.id,
        detail={k: result[k] for k in ("counts", "ballots", "electorate", "passed")},
    )
    platform.publish(
        session,
        "interaction.topic.closed",
        {
            "topic_id": topic.id,
            "unit_id": topic.unit_id,
            "unit_code": topic.unit_code,
            "result": result,
        },
    )
    return topic


def settle(platform: Platform, session: Session, topic: Topic) -> None:
    """Close a topic whose deadline has passed, the first time anyone looks at it."""
    if topic.status == "open" and aware(topic.closes_at) <= now() and topic.id is not None:
        closed = close_topic(platform, None, topic.id, session=session)
        topic.result = closed.result


def recount(platform: Platform, actor: Actor, topic_id: int) -> dict[str, Any]:
    """Count the stored ballots again and compare with the published result."""
    with platform.session() as session:
        topic = session.exec(
            select(Topic)
            .where(Topic.id == topic_id)
            .where(platform.scope_filter(actor, DELIBERATE, Topic.unit_id))
        ).first()
        if topic is None:
            raise NotFound("找不到该议题")
        counts, abstained = count_ballots(session, topic)
        published = topic.result
        electorate_size = (
            published["electorate"] if published else electorate(platform, session, topic)
        )
        again = decide(counts, electorate_size, topic.threshold_num, topic.threshold_den, abstained)
        same = published is not None and all(
            published[k] == again[k] for k in ("counts", "ballots", "winner", "passed")
        )
        return {"topic_id": topic.id, "published": published, "recount": again, "matches": same}


def manageable(platform: Platform, actor: Actor, topic_id: int) -> Topic:
    with platform.session() as session:
        topic = session.exec(
            select(Topic)
            .where(Topic.id == topic_id)
            .where(platform.scope_filter(actor, DELIBERATE, Topic.unit_id))
        ).first()
        if topic is None:
            raise NotFound("找不到该议题")
        settle(platform, session, topic)
        return topic


def ballots_for_cadre(platform: Platform, actor: Actor, topic_id: int) -> list[dict[str, Any]]:
    """Who voted what, for open ballots only; secret ballots stay secret from cadres."""
    topic = manageable(platform, actor, topic_id)
    if topic.secret:
        raise Forbidden("本议题为无记名投票，不能查看个人选票", code="secret_ballot")
    with platform.session() as session:
        rows = list(
            session.exec(select(Ballot).where(Ballot.topic_id == topic_id).order_by(col(Ballot.id)))
        )
        refs = platform.resident_refs(session, [b.resident_id for b in rows])
    return [
        {
            "voter_key": b.voter_key,
            "resident": refs[b.resident_id].name if b.resident_id in refs else None,
            "address": refs[b.resident_id].address_label if b.resident_id in refs else None,
            "option": b.option,
            "option_label": topic.options[b.option],
            "assisted_by": b.assisted_by,
            "changed_at": b.changed_at.isoformat(),
        }
        for b in rows
    ]


def needed(electorate_size: int, num: int | None, den: int | None) -> int | None:
    """How many votes one option needs to pass the threshold (None without a threshold)."""
    if num is None or den is None:
        return None
    return -(-num * electorate_size // den)


def standing(platform: Platform, session: Session, topic: Topic) -> dict[str, Any]:
    """Where an open topic stands: ballots (abstentions among them) against the electorate,
    the turnout, and how many votes one option needs to pass the threshold. The counts per
    option stay unpublished until the topic closes."""
    counts, abstained = count_ballots(session, topic)
    size = electorate(platform, session, topic)
    ballots = sum(counts) + abstained
    return {
        "ballots": ballots,
        "abstained": abstained,
        "electorate": size,
        "turnout": round(ballots / size, 4) if size else 0.0,
        "needed": needed(size, topic.threshold_num, topic.threshold_den),
    }
