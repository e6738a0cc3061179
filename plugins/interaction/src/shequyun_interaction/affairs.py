"""居务公开 (disclosures): an item of a committee's affairs in one of three categories, public.

Written by the committee's cadres (or the street's and district's, for their own unit); every
change keeps the previous version, and the whole history is public, each version with the files
it carried (:mod:`.files`). Disclosures of a unit where the plugin is switched off are not
served (:mod:`.availability`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef
from shequyun_sdk.attachments import AttachmentRef
from sqlmodel import col, select

from . import files
from .availability import is_open, refuse_content
from .core import PUBLISH, Errors, choice, now, text, writer_unit
from .files import Upload
from .models import Disclosure, DisclosureRevision

__all__ = [
    "CATEGORIES",
    "disclose",
    "disclosure",
    "disclosure_dict",
    "disclosures",
    "managed_disclosures",
    "revise",
]

CATEGORIES = {"finance": "财务公开", "decision": "决策公开", "works": "工程公开"}


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
    unit = writer_unit(platform, actor)
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
