"""Two records of one person merged (data quality): what the person did here follows them.

The person's accounts follow the kept record: the merged record's account points at the kept
one, and when the kept record has an account of its own (the person signed up twice, with two
phones) both stay and both point at it — they sign in with either phone, as before the merge,
and see one person's things. Each account's committee hint follows the kept record, so the
committee's notices reach it. Whatever the person did under the merged record moves to the kept
one too, so that it shows under "my requests" and "my posts" of either account: service
requests, in-app notifications (one of a kind: a notification the kept record has already stays
behind), neighbours' posts and comments, comments on topics, and ballots.

A person votes once on a topic. Two ballots of one person on an open topic (one under each
record) are one too many: the kept record's stands and the other is withdrawn. On a closed
topic the result is written already, and both ballots stay as they were cast. Everything moved
or withdrawn is returned to the kernel and handed back to :func:`undone`, which puts it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shequyun_sdk import Platform
from sqlmodel import Session, col, select

from .models import (
    Account,
    Ballot,
    Notification,
    Post,
    PostComment,
    ServiceRequest,
    Topic,
    TopicComment,
)

__all__ = ["merged", "undone"]

#: The person's own rows, moved as they are, by key in what is returned.
OWN: dict[str, Any] = {
    "requests": ServiceRequest,
    "posts": Post,
    "post_comments": PostComment,
    "topic_comments": TopicComment,
}
BALLOT_FIELDS = (
    "topic_id",
    "voter_key",
    "option",
    "assisted_by",
    "cast_at",
    "changed_at",
    "changes",
)


def merged(
    session: Session, kept_id: int, merged_id: int, platform: Platform | None = None
) -> dict[str, Any]:
    """Move the person's accounts and rows to ``kept_id``; what moved."""
    moved: dict[str, Any] = {}
    ref = platform.resident_refs(session, [kept_id]).get(kept_id) if platform else None
    hints: dict[str, int | None] = {}
    mine = session.exec(
        select(Account).where(col(Account.resident_id).in_([merged_id, kept_id]))
    ).all()
    for account in sorted(mine, key=lambda a: a.id or 0):
        assert account.id is not None
        if ref is not None and account.unit_hint != ref.committee.id:
            hints[str(account.id)] = account.unit_hint
            account.unit_hint = ref.committee.id
        if account.resident_id == merged_id:
            account.resident_id = kept_id
            moved.setdefault("accounts", []).append(account.id)
        session.add(account)
    if hints:
        moved["hints"] = hints
    for key, model in OWN.items():
        ids = _repoint(session, model, merged_id, kept_id, None)
        if ids:
            moved[key] = ids
    kinds = set(
        session.exec(select(Notification.dedupe_key).where(Notification.resident_id == kept_id))
    )
    notes = [
        n
        for n in session.exec(select(Notification).where(Notification.resident_id == merged_id))
        if n.dedupe_key not in kinds
    ]
    for note in notes:
        note.resident_id = kept_id
        session.add(note)
    if notes:
        moved["notifications"] = sorted(n.id for n in notes if n.id is not None)
    moved.update(_ballots(session, kept_id, merged_id))
    return moved


def undone(session: Session, kept_id: int, merged_id: int, moved: Mapping[str, Any]) -> None:
    """Put back what :func:`merged` moved; withdrawn ballots are cast again as they were."""
    # ``account``: one account, as merges recorded it before both accounts of a person moved.
    accounts = [*moved.get("accounts", []), *([moved["account"]] if moved.get("account") else [])]
    for account_id in accounts:
        account = session.get(Account, int(account_id))
        if account is not None and account.resident_id == kept_id:
            account.resident_id = merged_id
            session.add(account)
    for account_id, hint in moved.get("hints", {}).items():
        account = session.get(Account, int(account_id))
        if account is not None:
            account.unit_hint = hint
            session.add(account)
    for key, model in {**OWN, "notifications": Notification}.items():
        if moved.get(key):
            _repoint(session, model, kept_id, merged_id, [int(i) for i in moved[key]])
    for ballot_id, key in moved.get("ballots", []):
        ballot = session.get(Ballot, int(ballot_id))
        if ballot is not None and ballot.resident_id == kept_id:
            ballot.resident_id, ballot.voter_key = merged_id, key
            session.add(ballot)
    session.flush()
    for row in moved.get("withdrawn", []):
        taken = session.exec(
            select(Ballot.id).where(
                Ballot.topic_id == row["topic_id"], Ballot.voter_key == row["voter_key"]
            )
        ).first()
        if taken is None:
            values = {k: _moment(v) if k.endswith("_at") else v for k, v in row.items()}
            session.add(Ballot(resident_id=merged_id, **values))


def _ballots(session: Session, kept_id: int, merged_id: int) -> dict[str, Any]:
    moved: list[list[Any]] = []
    withdrawn: list[dict[str, Any]] = []
    rows = session.exec(
        select(Ballot, Topic)
        .join(Topic, col(Topic.id) == col(Ballot.topic_id))
        .where(Ballot.resident_id == merged_id)
    ).all()
    for ballot, topic in rows:
        key = ballot.voter_key
        target = f"r{kept_id}" if key == f"r{merged_id}" else key
        if target != key:
            twice = session.exec(
                select(Ballot.id).where(Ballot.topic_id == topic.id, Ballot.voter_key == target)
            ).first()
            if twice is not None:
                if topic.status == "open":
                    withdrawn.append({f: _plain(getattr(ballot, f)) for f in BALLOT_FIELDS})
                    session.delete(ballot)
                continue
        ballot.resident_id, ballot.voter_key = kept_id, target
        session.add(ballot)
        moved.append([ballot.id, key])
    found: dict[str, Any] = {}
    if moved:
        found["ballots"] = moved
    if withdrawn:
        found["withdrawn"] = withdrawn
    return found


def _repoint(
    session: Session, model: Any, source: int, target: int, only: list[int] | None
) -> list[int]:
    query = select(model).where(model.resident_id == source)
    if only is not None:
        query = query.where(col(model.id).in_(only))
    ids = []
    for row in session.exec(query):
        row.resident_id = target
        session.add(row)
        ids.append(row.id)
    return sorted(ids)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _moment(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
