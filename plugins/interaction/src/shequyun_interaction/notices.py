"""社区公告 and 居务公开: public content, readable by anyone, written by cadres.

An announcement belongs to the unit of the cadre who publishes it (a committee, street or
district) and is shown to everyone living below that unit, pinned ones first, until it expires
or is withdrawn; each reader (a resident, else an account) is counted once. A disclosure
(居务公开) is an item of a committee's affairs in one of three categories; every change keeps the
previous version, and the whole history is public. Both may carry files (images, PDF, DOCX,
XLSX; :mod:`.files`), public like the text; a withdrawn announcement's files stop being public.
Content of a unit where the plugin is switched off is not served (:mod:`.availability`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shequyun_sdk import Actor, Forbidden, NotFound, Platform, UnitRef
from shequyun_sdk.attachments import AttachmentRef
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from . import files
from .availability import is_open, refuse_content
from .core import PUBLISH, Errors, Viewer, choice, end_of_day, flag, now, text
from .core import upsert as upsert_row
from .files import Upload
from .models import Announcement, AnnouncementRead, Disclosure, DisclosureRevision

__all__ = ["CATEGORIES", "announcements_for", "publish", "read_announcement"]

CATEGORIES = {"finance": "财务公开", "decision": "决策公开", "works": "工程公开"}
LEVELS = ("district", "street", "committee")


def ancestors(path: str) -> list[str]:
    """``/1/17/230/`` → ``["/1/", "/1/17/", "/1/17/230/"]``: the unit and every unit above."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _writer_unit(platform: Platform, actor: Actor) -> UnitRef:
    unit = actor.unit
    if unit is None or unit.level not in LEVELS or not platform.can(actor, PUBLISH, unit):
        raise Forbidden("只有区、街镇和居委的工作人员可以发布")
    return unit


# -- announcements -----------------------------------------------------------------------------


def publish(
    platform: Platform, actor: Actor, raw: Mapping[str, Any], uploads: Sequence[Upload] = ()
) -> Announcement:
    """Publish an announcement for the actor's unit, with the files ``raw["attachments"]``
    names (uploaded earlier) and those sent with the form (``uploads``), all public."""
    unit = _writer_unit(platform, actor)
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

    Without a committee (anonymous or unverified, no unit chosen) the latest of all. Refused
    (404) for a place where plugin ``plugin_name`` is off; announcements of units where it is
    off are left out.
    """
    place = unit or (viewer.resident.committee if viewer.resident else None)
    if place is not None and not is_open(platform, plugin_name, place):
        raise refuse_content(field="unit")
    with platform.session() as session:
        query = _current(select(Announcement))
        if place is not None:
            query = query.where(col(Announcement.unit_path).in_(ancestors(place.path)))
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


# -- 居务公开 ------------------------------------------------------------------------------------


def _clean_disclosure(raw: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    return {
        "category": choice(raw, "category", "公开类别", CATEGORIES, errors),
        "title": text(raw, "title", "标题", errors, min_length=2, max_length=120),
        "body": text(raw, "body", "内容", errors, max_length=20000),
    }


def disclose(
    platform: Platform, actor: Actor, raw: Mapping[str, Any], uploads: Sequence[Upload] = ()
) -> Disclosure:
    """Disclose an item of the actor's unit (version 1), with public files as for
    :func:`publish`."""
    unit = _writer_unit(platform, actor)
    errors = Errors()
    values = _clean_disclosure(raw, errors)
    ids = files.attachment_ids(raw, errors) or []
    errors.raise_if_any()
    with platform.session() as session:
        row = Disclosure(unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, **values)
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(
            DisclosureRevision(
                disclosure_id=row.id,
                version=1,
                changed_by=actor.username,
                note="首次公开",
                **values,
            )
        )
        refs = files.attach(
            platform,
            session,
            target_type="disclosure",
            target_id=row.id,
            owner_ref=f"disclosure:{row.id}:v1",
            unit=unit,
            actor=actor,
            ids=ids,
            uploads=uploads,
            public=True,
            read_permissions=[PUBLISH],
        )
        platform.audit(
            session,
            "interaction.disclosed",
            actor=actor,
            target_type="interaction_disclosure",
            target_id=row.id,
            detail={
                "category": values["category"],
                "title": values["title"],
                "attachments": [r.id for r in refs],
            },
        )
        return row


def revise(
    platform: Platform,
    actor: Actor,
    disclosure_id: int,
    raw: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> Disclosure:
    """Save a new version. Its files are ``raw["attachments"]`` — files of earlier versions
    to keep and newly uploaded ones — plus ``uploads``; without ``attachments`` the previous
    version's files are kept. Earlier versions keep their own files."""
    errors = Errors()
    values = _clean_disclosure(raw, errors)
    note = text(raw, "note", "修改说明", errors, min_length=2, max_length=200)
    ids = files.attachment_ids(raw, errors)
    errors.raise_if_any()
    with platform.session() as session:
        row = session.exec(
            select(Disclosure)
            .where(Disclosure.id == disclosure_id)
            .where(platform.scope_filter(actor, PUBLISH, Disclosure.unit_id))
        ).first()
        if row is None:
            raise NotFound("找不到该公开事项")
        assert row.id is not None
        earlier = files.by_version(platform, session, "disclosure", row.id)
        if ids is None:
            ids = [r.id for r in earlier.get(row.version, [])]
        unit = platform.unit(session, row.unit_code)
        if unit is None:
            raise NotFound("该公开事项的单位已不存在")
        row.version += 1
        row.updated_at = now()
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.add(
            DisclosureRevision(
                disclosure_id=disclosure_id,
                version=row.version,
                changed_by=actor.username,
                note=note,
                **values,
            )
        )
        refs = files.attach(
            platform,
            session,
            target_type="disclosure",
            target_id=row.id,
            owner_ref=f"disclosure:{row.id}:v{row.version}",
            version=row.version,
            unit=unit,
            actor=actor,
            ids=ids,
            uploads=uploads,
            kept={r.id for refs in earlier.values() for r in refs},
            public=True,
            read_permissions=[PUBLISH],
        )
        platform.audit(
            session,
            "interaction.disclosure_revised",
            actor=actor,
            target_type="interaction_disclosure",
            target_id=row.id,
            detail={"version": row.version, "note": note, "attachments": [r.id for r in refs]},
        )
        return row


def disclosures(
    platform: Platform, unit: UnitRef, category: str | None = None, *, plugin_name: str
) -> list[Disclosure]:
    """The disclosures of a committee, newest first; 404 where plugin ``plugin_name`` is off."""
    if not is_open(platform, plugin_name, unit):
        raise refuse_content(field="unit")
    with platform.session() as session:
        query = select(Disclosure).where(Disclosure.unit_id == unit.id)
        if category in CATEGORIES:
            query = query.where(Disclosure.category == category)
        return list(session.exec(query.order_by(col(Disclosure.updated_at).desc()).limit(100)))


def disclosure(
    platform: Platform,
    disclosure_id: int,
    actor: Actor | None = None,
    *,
    plugin_name: str | None = None,
) -> tuple[Disclosure, list[DisclosureRevision], dict[int, list[AttachmentRef]]]:
    """A disclosure with its history and each version's files (public; with ``actor``, only
    within their scope). With ``plugin_name`` (the public pages), 404 where it is off."""
    with platform.session() as session:
        query = select(Disclosure).where(Disclosure.id == disclosure_id)
        if actor is not None:
            query = query.where(platform.scope_filter(actor, PUBLISH, Disclosure.unit_id))
        row = session.exec(query).first()
        if row is None:
            raise NotFound("找不到该公开事项")
        if plugin_name is not None:
            unit = platform.unit(session, row.unit_code)
            if unit is None or not is_open(platform, plugin_name, unit):
                raise refuse_content()
        history = list(
            session.exec(
                select(DisclosureRevision)
                .where(DisclosureRevision.disclosure_id == disclosure_id)
                .order_by(col(DisclosureRevision.version).desc())
            )
        )
        return row, history, files.by_version(platform, session, "disclosure", disclosure_id)


def managed_disclosures(platform: Platform, actor: Actor) -> list[Disclosure]:
    with platform.session() as session:
        return list(
            session.exec(
                select(Disclosure)
                .where(platform.scope_filter(actor, PUBLISH, Disclosure.unit_id))
                .order_by(col(Disclosure.updated_at).desc())
                .limit(100)
            )
        )


def disclosure_dict(
    row: Disclosure,
    history: list[DisclosureRevision] | None = None,
    attached: Mapping[int, list[AttachmentRef]] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "unit": {"code": row.unit_code, "name": row.unit_name},
        "category": row.category,
        "category_label": CATEGORIES[row.category],
        "title": row.title,
        "body": row.body,
        "version": row.version,
        "updated_at": row.updated_at.isoformat(),
    }
    if attached is not None:
        data["attachments"] = files.as_dicts(attached.get(row.version, []))
    if history is not None:
        data["history"] = [
            {
                "version": h.version,
                "title": h.title,
                "body": h.body,
                "category": h.category,
                "note": h.note,
                "changed_by": h.changed_by,
                "changed_at": h.changed_at.isoformat(),
                **(
                    {"attachments": files.as_dicts(attached.get(h.version, []))}
                    if attached is not None
                    else {}
                ),
            }
            for h in history
        ]
    return data
