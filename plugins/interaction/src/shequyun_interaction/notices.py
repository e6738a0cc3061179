"""社区公告: announcements, readable by anyone, written by cadres.

An announcement belongs to the unit of the cadre who publishes it (a committee, street or
district) and is shown to everyone living below that unit, pinned ones first, until it expires
or is withdrawn; each reader (a resident, else an account) is counted once. It may carry files
(images, PDF, DOCX, XLSX; :mod:`.files`), public like the text; a withdrawn announcement's files
stop being public. Announcements of a unit where the plugin is switched off are not served
(:mod:`.availability`). 居务公开 (disclosures) live in :mod:`.affairs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef
from shequyun_sdk.attachments import AttachmentRef
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from . import files

# 居务公开 moved to .affairs; its names stay importable from here.
from .affairs import (
    CATEGORIES,
    disclose,
    disclosure,
    disclosure_dict,
    disclosures,
    managed_disclosures,
    revise,
)
from .availability import is_open, refuse_content
from .core import PUBLISH, Errors, Viewer, end_of_day, flag, now, text, writer_unit
from .core import upsert as upsert_row
from .files import Upload
from .models import Announcement, AnnouncementRead

__all__ = [
    "CATEGORIES",
    "announcement_dict",
    "announcements_for",
    "disclose",
    "disclosure",
    "disclosure_dict",
    "disclosures",
    "managed_announcements",
    "managed_disclosures",
    "publish",
    "read_announcement",
    "revise",
    "withdraw",
]


def ancestors(path: str) -> list[str]:
    """``/1/17/230/`` → ``["/1/", "/1/17/", "/1/17/230/"]``: the unit and every unit above."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# -- announcements -----------------------------------------------------------------------------


def publish(
    platform: Platform, actor: Actor, raw: Mapping[str, Any], uploads: Sequence[Upload] = ()
) -> Announcement:
    """Publish an announcement for the actor's unit, with the files ``raw["attachments"]``
    names (uploaded earlier) and those sent with the form (``uploads``), all public."""
    unit = writer_unit(platform, actor)
    errors = Errors()
    title = text(raw, "title", "标题", errors, min_length=2, max_length=120)
    body = text(raw, "body", "正文", errors, max_length=10000)
    ids = files.attachment_ids(raw, errors) or []
    expires_at = None
    expires_on = str(raw.get("expires_on") or "").strip()
    if expires_on:
        try:
            expires_at = end_of_day(date.fromisoformat(expires_on))
        except ValueError:
            errors.add("expires_on", "有效期应为日期，如 2026-12-31")
        else:
            if expires_at <= now():
                errors.add("expires_on", "有效期应晚于今天")
    errors.raise_if_any()
    with platform.session() as session:
        row = Announcement(
            unit_id=unit.id,
            unit_code=unit.code,
            unit_name=unit.name,
            unit_level=unit.level,
            unit_path=unit.path,
            title=title,
            body=body,
            pinned=flag(raw, "pinned"),
            expires_at=expires_at,
            author_user_id=actor.user_id,
            author=actor.username,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        refs = files.attach(
            platform,
            session,
            target_type="announcement",
            target_id=row.id,
            owner_ref=f"announcement:{row.id}",
            unit=unit,
            actor=actor,
            ids=ids,
            uploads=uploads,
            public=True,
            read_permissions=[PUBLISH],
        )
        platform.audit(
            session,
            "interaction.announcement_published",
            actor=actor,
            target_type="interaction_announcement",
            target_id=row.id,
            detail={"title": title, "attachments": [r.id for r in refs]},
        )
        platform.publish(
            session,
            "interaction.announcement.published",
            {
                "announcement_id": row.id,
                "unit_code": unit.code,
                "unit_id": unit.id,
                "unit_level": unit.level,
            },
        )
        return row


def _current(query: Any) -> Any:
    return query.where(
        col(Announcement.withdrawn).is_(False),
        or_(col(Announcement.expires_at).is_(None), col(Announcement.expires_at) > now()),
    )


def announcements_for(
    platform: Platform,
    viewer: Viewer,
    unit: UnitRef | None = None,
    limit: int = 30,
    *,
    plugin_name: str,
) -> list[Announcement]:
    """Current announcements for the viewer's committee (or ``unit``), pinned first.

    Without a committee (anonymous or unverified, no unit chosen) the reader stands at the
    city and reads the city's own: not the newest of every committee, whose 停水通知 do not
    concern them (the API and the home page answer alike). Refused (404) for a place where
    plugin ``plugin_name`` is off; announcements of units where it is off are left out.
    """
    place = unit or (viewer.resident.committee if viewer.resident else None)
    if place is None:
        with platform.session() as session:
            place = platform.root_unit(session)
        if place is None:  # a tree without units
            return []
    if not is_open(platform, plugin_name, place):
        raise refuse_content(field="unit")
    with platform.session() as session:
        query = _current(select(Announcement)).where(
            col(Announcement.unit_path).in_(ancestors(place.path))
        )
        query = query.order_by(
            col(Announcement.pinned).desc(),
            col(Announcement.published_at).desc(),
            col(Announcement.id).desc(),
        )
        rows: list[Announcement] = []
        batch = max(2 * limit, 20)
        for offset in range(0, 10 * batch, batch):  # a bounded search past hidden units
            chunk = list(session.exec(query.offset(offset).limit(batch)))
            rows += [r for r in chunk if is_open(platform, plugin_name, _unit_of(r))]
            if len(rows) >= limit or len(chunk) < batch:
                break
        return rows[:limit]


def read_counts(session: Session, ids: list[int | None]) -> dict[int, int]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(
        select(AnnouncementRead.announcement_id, func.count())
        .where(col(AnnouncementRead.announcement_id).in_(wanted))
        .group_by(col(AnnouncementRead.announcement_id))
    ).all()
    return {int(a): int(n) for a, n in rows}


def read_announcement(
    platform: Platform, viewer: Viewer, announcement_id: int, *, plugin_name: str
) -> tuple[Announcement, int, list[AttachmentRef]]:
    """The announcement (counting this reader once), its read count and its files; 404 where
    plugin ``plugin_name`` is off."""
    with platform.session() as session:
        row = session.exec(
            _current(select(Announcement)).where(Announcement.id == announcement_id)
        ).first()
        if row is None:
            raise NotFound("找不到该公告，或已过期")
        if not is_open(platform, plugin_name, _unit_of(row)):
            raise refuse_content()
        key = viewer.reader_key
        if key is not None:
            upsert_row(
                session,
                AnnouncementRead,
                {"announcement_id": announcement_id, "reader_key": key, "read_at": now()},
                ("announcement_id", "reader_key"),
                None,
            )
        session.flush()
        reads = read_counts(session, [announcement_id]).get(announcement_id, 0)
        return row, reads, files.listed(platform, session, "announcement", announcement_id)


def managed_announcements(platform: Platform, actor: Actor) -> list[tuple[Announcement, int]]:
    with platform.session() as session:
        rows = list(
            session.exec(
                select(Announcement)
                .where(platform.scope_filter(actor, PUBLISH, Announcement.unit_id))
                .order_by(col(Announcement.id).desc())
                .limit(100)
            )
        )
        counts = read_counts(session, [r.id for r in rows])
    return [(r, counts.get(r.id or 0, 0)) for r in rows]


def withdraw(platform: Platform, actor: Actor, announcement_id: int) -> Announcement:
    """Take an announcement down; its files are no longer served to the public."""
    with platform.session() as session:
        row = session.exec(
            select(Announcement)
            .where(Announcement.id == announcement_id)
            .where(platform.scope_filter(actor, PUBLISH, Announcement.unit_id))
        ).first()
        if row is None:
            raise NotFound("找不到该公告")
        if row.withdrawn:
            return row
        row.withdrawn = True
        row.updated_at = now()
        session.add(row)
        assert row.id is not None
        restricted = files.restrict(
            platform,
            session,
            target_type="announcement",
            target_id=row.id,
            owner_ref=f"announcement:{row.id}",
            unit=_unit_of(row),
            actor=actor,
            read_permissions=[PUBLISH],
        )
        platform.audit(
            session,
            "interaction.announcement_withdrawn",
            actor=actor,
            target_type="interaction_announcement",
            target_id=row.id,
            detail={"attachments_restricted": restricted},
        )
        return row


def _unit_of(row: Announcement) -> UnitRef:
    return UnitRef(
        id=row.unit_id,
        code=row.unit_code,
        name=row.unit_name,
        level=row.unit_level,
        path=row.unit_path,
    )


def announcement_dict(
    row: Announcement, reads: int | None = None, attached: list[AttachmentRef] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "unit": {"code": row.unit_code, "name": row.unit_name, "level": row.unit_level},
        "title": row.title,
        "body": row.body,
        "pinned": row.pinned,
        "published_at": row.published_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "withdrawn": row.withdrawn,
    }
    if reads is not None:
        data["reads"] = reads
    if attached is not None:
        data["attachments"] = files.as_dicts(attached)
    return data
