"""The case-channel contract: how any plugin hands a matter to the 末端处置 channel and follows it.

A plugin that meets a problem it cannot solve alone — a resident's 在线服务 request the committee
must pass up, a district app's report — does not call the plugin that handles cases (it may not
be installed, and plugins never import each other). It publishes :data:`CASE_ESCALATION` with a
:class:`CaseEscalation` payload. Whichever plugin runs the case channel (the first-party 社区治理
plugin ``governance``, or a district's own) subscribes, opens one case per ``(source,
source_ref)`` however often the event is delivered, and publishes :data:`CASE_UPDATED` with a
:class:`CaseUpdate` on every step of that case. The asking plugin subscribes to
:data:`CASE_UPDATED`, keeps the updates whose ``source`` is its own, and shows residents where
their matter stands::

    from shequyun_sdk.cases import CASE_ESCALATION, escalation

    platform.publish(session, CASE_ESCALATION, escalation(
        source="interaction", source_ref=f"request:{row.id}", unit_code=committee.code,
        title=row.title, description=row.body, requested_by=actor.display_name,
    ))

Nothing happens when no case channel is installed: the event is recorded and delivered to no
one. :func:`escalation` checks the payload, so a mistake shows where it is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from .events import MOMENT, RESIDENT_ID, UNIT_CODE, EventType, payload

__all__ = [
    "CASE_ESCALATION",
    "CASE_UPDATED",
    "EVENT_TYPES",
    "CaseEscalation",
    "CaseUpdate",
    "escalation",
    "read_update",
]

#: Published by a plugin that asks for a case: payload :class:`CaseEscalation`.
CASE_ESCALATION = "case.escalation_requested"

#: Published by the case channel on every step of a case that came with a ``source_ref``:
#: payload :class:`CaseUpdate`.
CASE_UPDATED = "case.updated"


class _EscalationRequired(TypedDict):
    source: str
    source_ref: str
    unit_code: str
    title: str
    description: str


class CaseEscalation(_EscalationRequired, total=False):
    """What a plugin asks the case channel to take on.

    ``source`` is the asking plugin's name and ``source_ref`` its own reference
    (``request:12``): together they identify the case, so asking twice opens one case.
    ``unit_code`` is the unit that raises it (a committee); the channel decides who handles it.
    ``category`` is a hint (``repair``, ``help``...), ``resident_id`` the resident concerned,
    ``attachments`` ids of files already in the attachment store (``att_…``), ``requested_by``
    the name of the person who asked.
    """

    category: str
    resident_id: int
    address: str
    attachments: list[str]
    requested_by: str


class CaseUpdate(TypedDict):
    """One step of a case, for the plugin that asked for it.

    ``status`` is one of ``pending`` (待签收), ``handling`` (处置中), ``reported`` (待核查),
    ``returned`` (已退回) and ``closed`` (已结案), with its Chinese ``status_label``; ``step`` and
    ``step_label`` say what just happened (``accept``/``签收`` …); ``note`` is what the handler
    wrote for the record (show it to the resident only as your plugin sees fit).
    """

    source: str
    source_ref: str
    case_id: int
    case_number: str
    status: str
    status_label: str
    step: str
    step_label: str
    note: str
    unit_name: str
    at: str


def escalation(
    *,
    source: str,
    source_ref: str,
    unit_code: str,
    title: str,
    description: str,
    category: str | None = None,
    resident_id: int | None = None,
    address: str | None = None,
    attachments: Sequence[str] = (),
    requested_by: str | None = None,
) -> CaseEscalation:
    """A checked :class:`CaseEscalation` payload; ``ValueError`` says which field is wrong."""
    for name, value, limit in (
        ("source", source, 40),
        ("source_ref", source_ref, 80),
        ("unit_code", unit_code, 12),
        ("title", title, 120),
        ("description", description, 4000),
    ):
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")
    payload: CaseEscalation = {
        "source": source,
        "source_ref": source_ref,
        "unit_code": unit_code,
        "title": title.strip(),
        "description": description.strip(),
    }
    if category:
        payload["category"] = category
    if resident_id is not None:
        payload["resident_id"] = int(resident_id)
    if address:
        payload["address"] = address[:200]
    if attachments:
        payload["attachments"] = [str(a) for a in attachments]
    if requested_by:
        payload["requested_by"] = requested_by[:80]
    return payload


def read_update(payload: Mapping[str, Any]) -> CaseUpdate | None:
    """``payload`` as a :class:`CaseUpdate`, or None when it lacks a field (a newer or older
    channel may add fields; a subscriber should never fail on one it does not know)."""
    keys = CaseUpdate.__annotations__
    if not all(k in payload for k in keys):
        return None
    return {k: payload[k] for k in keys}  # type: ignore[return-value]


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit}


#: The declarations of both events (the kernel registers them; any plugin may publish them).
EVENT_TYPES = (
    EventType(
        CASE_ESCALATION,
        "A plugin asks the case channel (末端处置) to take a matter on; publish it with "
        "``shequyun_sdk.cases.escalation(...)``. The channel opens one case per "
        "(``source``, ``source_ref``) however often it is delivered.",
        payload(
            {
                "source": _text(40),
                "source_ref": _text(80),
                "unit_code": UNIT_CODE,
                "title": _text(120),
                "description": _text(4000),
                "category": {"type": "string"},
                "resident_id": RESIDENT_ID,
                "address": {"type": "string", "maxLength": 200},
                "attachments": {"type": "array", "items": {"type": "string"}},
                "requested_by": {"type": "string", "maxLength": 80},
            },
            optional=("category", "resident_id", "address", "attachments", "requested_by"),
        ),
        example={
            "source": "interaction",
            "source_ref": "request:12",
            "unit_code": "310115004001",
            "title": "3号楼电梯停运",
            "description": "电梯已停运两天，楼内有多位高龄老人。",
            "category": "repair",
            "resident_id": 1024,
            "requested_by": "王主任",
        },
    ),
    EventType(
        CASE_UPDATED,
        "The case channel took a step on a case that came with a ``source_ref``; the asking "
        "plugin keeps the updates whose ``source`` is its own (read them with "
        "``read_update``).",
        payload(
            {
                "source": _text(40),
                "source_ref": _text(80),
                "case_id": {"type": "integer", "minimum": 1},
                "case_number": {"type": "string"},
                "status": {"enum": ["pending", "handling", "reported", "returned", "closed"]},
                "status_label": {"type": "string"},
                "step": {"type": "string"},
                "step_label": {"type": "string"},
                "note": {"type": "string"},
                "unit_name": {"type": "string"},
                "at": MOMENT,
            }
        ),
        example={
            "source": "interaction",
            "source_ref": "request:12",
            "case_id": 88,
            "case_number": "GZ20260501-0007",
            "status": "handling",
            "status_label": "处置中",
            "step": "accept",
            "step_label": "签收",
            "note": "已联系维保单位",
            "unit_name": "潍坊新村街道",
            "at": "2026-05-01T09:30:00+08:00",
        },
    ),
)
