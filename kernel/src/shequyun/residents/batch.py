"""Batch actions on residents chosen on the list (批量操作): tags added to or taken off several
residents at once.

One call is one transaction and all or nothing: every chosen resident is checked first (in the
actor's reach for writing, still registered, not over the tag limit) and if any fails, nothing
is written and every failing row is reported, each with its position and the resident's id —
with the name too when the actor may read it. Each resident that changes gets what a single
edit gives it: a new version, its history row, an audit entry (naming the batch's size) and a
``resident.updated`` event. Downloading a selection is the export's ``id`` filter
(:class:`~.reading.ResidentFilters`), not an action here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shequyun_sdk import Conflict, Forbidden, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import update
from sqlmodel import Session, col, select

from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .models import Resident, ResidentTag, utcnow
from .reading import READ
from .validation import MAX_TAGS
from .write_steps import audit_write, record_history, set_tags

if TYPE_CHECKING:
    from .service import ResidentService

__all__ = ["MAX_BATCH", "BatchResult", "check_ids", "possible_ids", "retag"]

#: Residents in one batch: a page of the list is 50; the API may send up to this many.
MAX_BATCH = 200
#: Resident ids are 32-bit: a larger one names nobody (and PostgreSQL refuses to compare it).
_ID_LIMIT = 2**31
WRITE = "residents.write"


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: the residents whose tags changed, and those that already had (or
    lacked) them, each list in the order given."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "unchanged": self.unchanged}


def check_ids(raw: Any, *, name: str = "resident_ids") -> list[int]:
    """``raw`` as a list of resident ids (duplicates dropped, order kept), or ValidationFailed
    naming ``name``: 1 to :data:`MAX_BATCH` positive integers."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("请至少选择一位居民", field=name)
    if len(raw) > MAX_BATCH:
        raise ValidationFailed(f"一次最多处理 {MAX_BATCH} 位居民，请分批操作", field=name)
    ids: list[int] = []
    for index, value in enumerate(raw):
        if isinstance(value, str) and value.isdigit() and len(value) < 19:
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**62:
            raise ValidationFailed("应为居民编号（正整数）", field=f"{name}.{index}")
        ids.append(value)
    return list(dict.fromkeys(ids))


def possible_ids(ids: Sequence[int]) -> list[int]:
    """The ids of ``ids`` a resident can have; the others match nobody."""
    return [i for i in ids if i < _ID_LIMIT]


def _check_tags(service: ResidentService, raw: Any, name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw) or len(raw) > 10:
        raise ValidationFailed("应为标签名称的列表（最多 10 个）", field=name)
    tags = list(dict.fromkeys(t.strip() for t in raw if t.strip()))
    unknown = [t for t in tags if not service.vocabulary.known_tag(t)]
    if unknown:
        raise ValidationFailed(f"不在标签目录中：{'、'.join(unknown)}", field=name)
    return tags


def retag(
    service: ResidentService,
    session: Session,
    actor: Actor | None,
    resident_ids: Any,
    *,
    add: Any = None,
    remove: Any = None,
    source: str,
) -> BatchResult:
    """Add the tags ``add`` to and take ``remove`` off every resident of ``resident_ids``.

    Needs ``residents.write`` over each resident's committee. All or nothing: when any row
    fails, ValidationFailed (422) lists every failing row in ``details`` (``field`` is
    ``resident_ids.<position>``, with ``resident_id`` and, when the actor may read them,
    ``name``) and nothing is written; a resident changed by someone else meanwhile is a
    Conflict (409) and nothing is written either. The caller commits.
    """
    if actor is None or not actor.has(WRITE):
        raise Forbidden("您没有修改居民信息的权限")
    ids = check_ids(resident_ids)
    adding = _check_tags(service, add, "add")
    removing = _check_tags(service, remove, "remove")
    if not adding and not removing:
        raise ValidationFailed("请选择要加上或去掉的标签", field="add")
    both = set(adding) & set(removing)
    if both:
        raise ValidationFailed(f"同一标签不能既加上又去掉：{'、'.join(both)}", field="remove")

    rows = {
        resident.id: (resident, unit)
        for resident, unit in session.exec(
            select(Resident, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == col(Resident.unit_id))
            .where(col(Resident.id).in_(possible_ids(ids)))
        )
    }
    held: dict[int, set[str]] = {i: set() for i in ids}
    for resident_id, tag in session.exec(
        select(ResidentTag.resident_id, ResidentTag.tag).where(
            col(ResidentTag.resident_id).in_(possible_ids(ids))
        )
    ):
        held[resident_id].add(tag)

    problems: list[dict[str, str]] = []
    plans: list[tuple[Resident, OrgUnit, list[str], list[str]]] = []
    for index, resident_id in enumerate(ids):
        found = rows.get(resident_id)
        problem = {"field": f"resident_ids.{index}", "resident_id": str(resident_id)}
        if found is None or not scope.can(actor, WRITE, unit_ref(found[1])):
            if found is not None and scope.can(actor, READ, unit_ref(found[1])):
                problem["name"] = found[0].name
            problems.append({**problem, "message": "找不到该居民，或您无权修改"})
            continue
        resident, unit = found
        problem["name"] = resident.name
        before = sorted(held[resident_id])
        after = sorted((held[resident_id] | set(adding)) - set(removing))
        if resident.status != "active":
            problems.append({**problem, "message": "该居民已注销"})
        elif len(after) > MAX_TAGS:
            problems.append({**problem, "message": f"标签将超过 {MAX_TAGS} 个"})
        else:
            plans.append((resident, unit, before, after))
    if problems:
        raise ValidationFailed(
            f"有 {len(problems)} 位居民无法处理，未做任何修改",
            field=problems[0]["field"],
            details=problems,
        )

    result = BatchResult()
    for resident, unit, before, after in plans:
        assert resident.id is not None
        if before == after:
            result.unchanged.append(resident.id)
            continue
        _write(service, session, actor, resident, unit, before, after, len(plans), source)
        result.changed.append(resident.id)
    return result


def _write(
    service: ResidentService,
    session: Session,
    actor: Actor,
    resident: Resident,
    unit: OrgUnit,
    before: Sequence[str],
    after: Sequence[str],
    size: int,
    source: str,
) -> None:
    assert resident.id is not None
    version = resident.version
    # As in ResidentService.update: the version check and the bump are one statement, so a
    # concurrent edit of any chosen resident undoes the whole batch.
    bumped = session.execute(
        update(Resident)
        .where(col(Resident.id) == resident.id, col(Resident.version) == version)
        .values(version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict(
            f"{resident.name} 的记录刚被他人修改，未做任何修改，请刷新后重试",
            field="resident_ids",
            code="stale_version",
            details=[
                {"field": "resident_ids", "resident_id": str(resident.id), "message": "已被修改"}
            ],
        )
    resident.version = version + 1
    resident.updated_at = utcnow()
    session.add(resident)
    set_tags(session, resident.id, after)
    record_history(
        session,
        actor,
        resident,
        source,
        [("tags", "、".join(before) or None, "、".join(after) or None)],
    )
    audit_write(
        session,
        actor,
        "resident.updated",
        resident,
        source,
        fields=["tags"],
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        batch=size,
    )
    service.events.publish(
        session,
        "resident.updated",
        {
            "resident_id": resident.id,
            "unit_code": unit.code,
            "unit_id": unit.id,
            "version": resident.version,
            "fields": ["tags"],
        },
    )
