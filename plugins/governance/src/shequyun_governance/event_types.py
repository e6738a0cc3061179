"""The events 社区治理 publishes (declared through ``register_event_types``).

One event type per step of a case (``governance.case.accept``, ``governance.case.close`` …),
all with the same payload; the case channel's contract events (``case.updated``) are the SDK's.
"""

from __future__ import annotations

from shequyun_sdk.events import DATE, MOMENT, UNIT, EventType, payload, unit_fields

from .cases import ACTIONS, STATUSES
from .fieldlog import KINDS

__all__ = ["EVENT_TYPES"]

ID = {"type": "integer", "minimum": 1}
TEXT = {"type": "string"}
XUHUI = {"unit_code": "310104003001", "unit_id": 10}

_CASE = payload(
    {
        "case_id": ID,
        "number": TEXT,
        "action": {"enum": sorted(ACTIONS)},
        "status": {"enum": sorted(STATUSES)},
        **UNIT,
        **unit_fields("origin_"),
        "source": TEXT,
        "source_ref": TEXT,
        "category": TEXT,
        "due_on": DATE,
        "at": MOMENT,
    },
    nullable=("source_ref",),
)


def _case_step(action: str, label: str) -> EventType:
    return EventType(
        f"governance.case.{action}",
        f"A case took the step {label} ({action}); ``unit_code`` is the unit handling it now, "
        "``origin_unit_code`` the one that opened it.",
        _CASE,
        example={
            "case_id": 88,
            "number": "GZ20260501-0007",
            "action": action,
            "status": "handling",
            **XUHUI,
            "origin_unit_code": "310104003000",
            "origin_unit_id": 9,
            "source": "interaction",
            "source_ref": "request:12",
            "category": "设施报修",
            "due_on": "2026-05-08",
            "at": "2026-05-01T09:30:00+08:00",
        },
    )


_ARTICLE = payload({"article_id": ID, **UNIT, "version": {"type": "integer", "minimum": 1}})
_ARTICLE_EXAMPLE = {"article_id": 6, **XUHUI, "version": 1}

EVENT_TYPES = (
    EventType(
        "governance.log.recorded",
        "A cadre recorded a field log (走访 or 发现) in their committee.",
        payload(
            {
                "log_id": ID,
                **UNIT,
                "kind": {"enum": sorted(KINDS)},
                "category": TEXT,
                "follow_up": {"type": "boolean"},
            }
        ),
        example={
            "log_id": 15,
            **XUHUI,
            "kind": "visit",
            "category": "独居老人",
            "follow_up": False,
        },
    ),
    EventType(
        "governance.article.published",
        "An article was added to the knowledge base (知识库) of its unit.",
        _ARTICLE,
        example=_ARTICLE_EXAMPLE,
    ),
    EventType(
        "governance.article.revised",
        "A knowledge-base article got a new version.",
        _ARTICLE,
        example={**_ARTICLE_EXAMPLE, "version": 2},
    ),
    EventType(
        "governance.article.withdrawn",
        "A knowledge-base article was withdrawn.",
        _ARTICLE,
        example={**_ARTICLE_EXAMPLE, "version": 3},
    ),
    *(_case_step(action, label) for action, label in ACTIONS.items()),
)
