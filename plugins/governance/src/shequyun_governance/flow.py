"""The steps of a case once opened: 签收 处置 反馈 核查/结案, 退单 上报 转派, 延期, 督办, 回访.

Who may take a step is decided by the unit the actor acts for (their grant's unit):

* the **handling unit** itself (``case.unit_id``, with ``governance.handle``) accepts, handles,
  reports, rejects (退单), escalates (上报), reassigns (转派) and asks for more time;
* the **dispatcher** (the unit that gave it the case, ``dispatcher_unit_id``, with
  ``governance.dispatch``) verifies and closes or returns the report, and grants or refuses
  more time; when a unit opened a case for itself it is its own dispatcher;
* **any unit above** the handler (``governance.dispatch``) flags it for supervision (督办);
* the opener, the dispatcher or the handler records the resident's satisfaction (回访).

Every step compares-and-sets the case's ``version``: of two people acting on one case at once,
one wins and the other gets :class:`~shequyun_sdk.Conflict` (409), whatever the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, Platform, UnitRef, ValidationFailed
from sqlalchemy import update
from sqlmodel import Session

from . import cases
from .cases import ACTIONS, STATUSES, claim_photos, record_step
from .core import (
    DISPATCH,
    HANDLE,
    Errors,
    acting_unit,
    ancestor_ids,
    integer,
    now,
    text,
    today,
    unit_by_id,
)
from .files import Upload
from .models import Case, CaseParty

__all__ = ["SATISFACTION", "STEPS", "take_step"]

SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


def take_step(
    platform: Platform,
    actor: Actor,
    case_id: int,
    action: str,
    raw: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> Case:
    """Take step ``action`` on case ``case_id`` as ``actor``; the whole step or nothing.

    ``raw`` holds the step's fields (``note``, ``photos``, ``unit_code``, ``days``,
    ``passed``, ``satisfaction``) and optionally ``version``: when given and stale, 409.
    """
    step = STEPS.get(action)
    if step is None:
        raise ValidationFailed("不支持的操作：" + action, field="action")
    with platform.session() as session:
        case = cases.get(platform, session, actor, case_id)
        expected = case.version
        wanted = raw.get("version")
        if wanted is not None and str(wanted) != str(expected):
            raise Conflict("案件已被他人处理，请刷新后再试", code="stale", field="version")
        before = case.status
        _claim_turn(session, case, expected)
        fields = {k: v for k, v in raw.items() if k != "_uploads"}
        step(platform, session, actor, case, {**fields, "_uploads": list(uploads)}, before)
        case.updated_at = now()
        session.add(case)
        session.flush()
        return case


def _claim_turn(session: Session, case: Case, expected: int) -> None:
    """Move the case to ``expected + 1`` only if nobody else did first (else 409)."""
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == expected)  # type: ignore[arg-type]
        .values(version=expected + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("案件已被他人处理，请刷新后再试", code="stale", field="version")
    case.version = expected + 1


# -- who ---------------------------------------------------------------------------------------


def _as_handler(platform: Platform, actor: Actor, case: Case) -> UnitRef:
    unit = acting_unit(actor)
    if unit.id != case.unit_id or not platform.can(actor, HANDLE, unit):
        raise Forbidden("只有承办单位可以执行此操作", code="not_handler")
    return unit


def _as_dispatcher(platform: Platform, actor: Actor, case: Case) -> UnitRef:
    unit = acting_unit(actor)
    own = case.dispatcher_unit_id == case.unit_id
    needed = HANDLE if own else DISPATCH
    if unit.id != case.dispatcher_unit_id or not platform.can(actor, needed, unit):
        raise Forbidden("只有派单单位可以执行此操作", code="not_dispatcher")
    return unit


def _require(case: Case, *statuses: str) -> None:
    if case.status not in statuses:
        wanted = "、".join(STATUSES[s] for s in statuses)
        raise Conflict(
            f"案件当前为「{STATUSES[case.status]}」，只有「{wanted}」的案件可以这样操作",
            code="wrong_status",
            field="status",
        )


def _note(raw: Mapping[str, Any], label: str, *, required: bool = True) -> str:
    errors = Errors()
    note = text(raw, "note", label, errors, max_length=2000, required=required)
    errors.raise_if_any()
    return note


def _photos(platform: Platform, session: Session, actor: Actor, case: Case, raw: Any) -> list[str]:
    ids = raw.get("photos") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 9:
        raise ValidationFailed("照片应为最多 9 个附件编号的列表", field="photos")
    return claim_photos(platform, session, actor, case, ids, raw.get("_uploads") or ())


def _party(platform: Platform, session: Session, case: Case, unit: UnitRef) -> None:
    """Keep ``unit`` (which took part) seeing the case once it is no longer above the handler.

    Call it after the case moved. Units above the handler see the case through the scope
    filter already, so only the others get a row: the table stays small, and lists fast.
    """
    assert case.id is not None
    handler = unit_by_id(platform, session, case.unit_id)
    if handler.path.startswith(unit.path):
        return
    if session.get(CaseParty, (case.id, unit.id)) is None:
        session.add(CaseParty(case_id=case.id, unit_id=unit.id))


def _move_to(platform: Platform, session: Session, case: Case, unit: UnitRef, status: str) -> None:
    case.unit_id, case.unit_name, case.status = unit.id, unit.name, status
    if status == "pending":
        calendar = platform.work_calendar(session)
        case.accept_due = calendar.add_working_days(today(), cases.accept_days(platform))
        case.accepted_at = None


# -- the steps ----------------------------------------------------------------------------------

Step = Callable[[Platform, Session, Actor, Case, Mapping[str, Any], str], None]


def accept(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "pending", "returned")
    case.status, case.accepted_at = "handling", now()
    late = today() > case.accept_due
    record_step(
        platform,
        session,
        actor,
        case,
        "accept",
        before,
        note=_note(raw, "说明", required=False),
        unit=unit,
        detail={"late": late},
    )


def handle(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "handling")
    note = _note(raw, "处置情况")
    record_step(
        platform,
        session,
        actor,
        case,
        "handle",
        before,
        note=note,
        photos=_photos(platform, session, actor, case, raw),
        unit=unit,
    )


def report(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "handling")
    note = _note(raw, "办理结果")
    photos = _photos(platform, session, actor, case, raw)
    case.status, case.reported_at = "reported", now()
    record_step(
        platform, session, actor, case, "report", before, note=note, photos=photos, unit=unit
    )


def verify(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_dispatcher(platform, actor, case)
    _require(case, "reported")
    passed = raw.get("passed")
    if not isinstance(passed, bool):
        passed = str(passed).lower() in ("1", "true", "yes", "on", "pass")
    note = _note(raw, "核查意见", required=not passed)
    if not passed:
        case.status = "handling"
        record_step(platform, session, actor, case, "return", before, note=note, unit=unit)
        return
    case.status = "closed"
    record_step(
        platform,
        session,
        actor,
        case,
        "verify",
        before,
        note=note,
        unit=unit,
        detail={"passed": True},
    )
    _close(platform, session, actor, case, unit, "reported", note)


def _close(
    platform: Platform,
    session: Session,
    actor: Actor,
    case: Case,
    unit: UnitRef,
    before: str,
    note: str,
) -> None:
    case.status, case.closed_at, case.closed_on = "closed", now(), today()
    calendar = platform.work_calendar(session)
    on_time = calendar.punctuality(case.due_on, today=today(), done_on=case.closed_on)
    record_step(
        platform,
        session,
        actor,
        case,
        "close",
        before,
        note=note,
        unit=unit,
        detail={"punctuality": on_time},
    )


def close(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    """结案 of a case that came back to the unit that opened it (退单 to the end of the chain)."""
    unit = _as_handler(platform, actor, case)
    _require(case, "returned")
    if case.origin_unit_id != unit.id:
        raise Forbidden("只有立案单位可以直接结案", code="not_origin")
    _close(platform, session, actor, case, unit, before, _note(raw, "结案说明"))


def reject(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "pending", "handling")
    top = case.chain[-1]
    if top[0] == unit.id:
        raise Conflict("本单位立案的案件不能退单，可上报或结案", code="own_case", field="action")
    note = _note(raw, "退单理由")
    back = _pop(platform, session, case)
    _party(platform, session, case, unit)
    record_step(platform, session, actor, case, "reject", before, note=note, unit=unit, target=back)


def _pop(platform: Platform, session: Session, case: Case) -> UnitRef:
    """Give the case back to whoever gave it to the handler (the top of the chain)."""
    chain = [list(link) for link in case.chain]
    giver = chain.pop()[0]
    back = unit_by_id(platform, session, giver)
    if chain:
        case.dispatcher_unit_id = chain[-1][0]
        _move_to(platform, session, case, back, "handling")
    else:
        case.dispatcher_unit_id = giver
        chain = [[giver, giver]]
        _move_to(platform, session, case, back, "returned")
    case.chain = chain
    return back


def escalate(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "pending", "handling", "returned")
    path = ancestor_ids(unit)
    if len(path) < 2:
        raise Conflict("市级没有上级单位", code="no_parent", field="action")
    note = _note(raw, "上报理由")
    parent = unit_by_id(platform, session, path[-2])
    chain = [list(link) for link in case.chain]
    if chain[-1][0] == parent.id:
        _pop(platform, session, case)
    else:
        chain[-1] = [chain[-1][0], parent.id]
        case.chain = chain
        case.dispatcher_unit_id = chain[-1][0]
        _move_to(platform, session, case, parent, "pending")
    _party(platform, session, case, unit)
    record_step(
        platform, session, actor, case, "escalate", before, note=note, unit=unit, target=parent
    )


def reassign(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "pending", "handling", "returned")
    code = raw.get("unit_code")
    target = platform.unit(session, str(code)) if code else None
    if target is None or target.closed:
        raise ValidationFailed("请选择转派的下级单位", field="unit_code")
    if target.id == unit.id or not target.path.startswith(unit.path):
        raise ValidationFailed("只能转派给本单位的下级单位", field="unit_code")
    note = _note(raw, "转派说明", required=False)
    case.chain = [*[list(link) for link in case.chain], [unit.id, target.id]]
    case.dispatcher_unit_id = unit.id
    _move_to(platform, session, case, target, "pending")
    record_step(
        platform,
        session,
        actor,
        case,
        "reassign",
        before,
        note=note,
        unit=unit,
        target=target,
        detail={"accept_due": case.accept_due.isoformat()},
    )


def extend(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = _as_handler(platform, actor, case)
    _require(case, "pending", "handling")
    if case.extension_days is not None:
        raise Conflict("已有待批的延期申请", code="extension_pending", field="days")
    errors = Errors()
    days = integer(raw, "days", "延期天数（工作日）", errors, low=1, high=30)
    if days is None and not errors:
        errors.add("days", "请填写延期天数（工作日）")
    reason = text(raw, "note", "延期理由", errors, max_length=200)
    errors.raise_if_any()
    case.extension_days, case.extension_reason = days, reason
    record_step(
        platform,
        session,
        actor,
        case,
        "extend",
        before,
        note=reason,
        unit=unit,
        detail={"days": days},
    )


def decide_extension(granted: bool) -> Step:
    def decide(
        platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
    ) -> None:
        unit = _as_dispatcher(platform, actor, case)
        if case.extension_days is None:
            raise Conflict("没有待批的延期申请", code="no_extension", field="action")
        days = case.extension_days
        detail: dict[str, Any] = {"days": days}
        if granted:
            calendar = platform.work_calendar(session)
            case.due_on = calendar.add_working_days(case.due_on, days)
            detail["due_on"] = case.due_on.isoformat()
        case.extension_days, case.extension_reason = None, ""
        note = _note(raw, "意见", required=False)
        action = "extend_grant" if granted else "extend_deny"
        record_step(
            platform, session, actor, case, action, before, note=note, unit=unit, detail=detail
        )

    return decide


def supervise(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = acting_unit(actor)
    handler = unit_by_id(platform, session, case.unit_id)
    above = handler.path.startswith(unit.path) and unit.id != handler.id
    if not above or not platform.can(actor, DISPATCH, handler):
        raise Forbidden("只有承办单位的上级可以督办", code="not_above")
    _require(case, "pending", "handling", "reported", "returned")
    case.supervised += 1
    record_step(
        platform,
        session,
        actor,
        case,
        "supervise",
        before,
        note=_note(raw, "督办要求"),
        unit=unit,
        target=handler,
        detail={"times": case.supervised},
    )


def revisit(
    platform: Platform, session: Session, actor: Actor, case: Case, raw: Any, before: str
) -> None:
    unit = acting_unit(actor)
    involved = {case.origin_unit_id, case.dispatcher_unit_id, case.unit_id}
    if unit.id not in involved or not (
        platform.can(actor, HANDLE, unit) or platform.can(actor, DISPATCH, unit)
    ):
        raise Forbidden("只有立案、派单或承办单位可以回访", code="not_involved")
    _require(case, "closed")
    satisfaction = raw.get("satisfaction")
    if satisfaction not in SATISFACTION:
        raise ValidationFailed("请选择满意度（满意、基本满意、不满意）", field="satisfaction")
    case.satisfaction = str(satisfaction)
    record_step(
        platform,
        session,
        actor,
        case,
        "revisit",
        before,
        note=_note(raw, "回访记录"),
        unit=unit,
        detail={"satisfaction": satisfaction},
    )


STEPS: dict[str, Step] = {
    "accept": accept,
    "handle": handle,
    "report": report,
    "verify": verify,
    "close": close,
    "reject": reject,
    "escalate": escalate,
    "reassign": reassign,
    "extend": extend,
    "extend_grant": decide_extension(True),
    "extend_deny": decide_extension(False),
    "supervise": supervise,
    "revisit": revisit,
}
assert set(STEPS) <= set(ACTIONS)
