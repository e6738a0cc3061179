"""Walking the state-changing routes and reading what each step left behind.

A :class:`Trail` remembers where the audit log and the history tables stood; each
:meth:`Trail.step` checks one answer, then that exactly the given audit entries (action and
target, in order) and history rows were written since the last step, and moves the mark on.

Each entry's detail must have the keys its service defines for the action (:data:`DETAIL`),
whichever door wrote it, and name who acted; a step may also give detail values it expects
(``("resident.revealed", "resident", {"reason": "核对高龄津贴"})``), for what the door
translates from the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from shequyun.collection.models import TaskEvent
from shequyun.identity.models import AuditEntry, OrgUnitChange
from shequyun.residents.models import ResidentChange

#: The history each service keeps besides the audit log, by the name a step uses.
HISTORY = {"resident": ResidentChange, "task": TaskEvent, "org_unit": OrgUnitChange}

#: The detail keys each service writes with each audit action (more than one set where the
#: service has more than one way: an import adds ``via`` and the row). A new action, or a door
#: that adds or drops a key, fails the step until this says so.
DETAIL: dict[str, tuple[frozenset[str], ...]] = {
    action: tuple(frozenset(keys) for keys in shapes)
    for action, shapes in {
        # identity: users, grants, tokens, org units, enablement, one's own account
        "user.created": [{"username"}, {"username", "via", "row"}],
        "user.updated": [{"changes", "sessions_ended"}],
        "user.unlocked": [{"was_locked"}],
        "user.password_reset": [{"generated", "sessions_ended"}],
        "user.holder_confirmed": [{"username", "password_set_by"}],
        "users.imported": [{"filename", "users", "grants"}],
        "grant.created": [
            {"user_id", "username", "role", "unit_code"},
            {"user_id", "username", "role", "unit_code", "via"},
        ],
        "grant.revoked": [{"user_id", "role", "unit_code", "sessions_ended", "tokens_revoked"}],
        "token.created": [{"grant_id", "name", "prefix", "expires_at"}],
        "token.revoked": [{"grant_id"}],
        "org.unit.created": [{"parent", "name"}],
        "org.unit.renamed": [{"from", "to"}],
        "org.unit.moved": [{"from", "to", "subtree"}],
        "org.unit.closed": [{"closed_on"}],
        "org.unit.merged": [{"from", "on"}],
        "org.unit.split": [{"into", "on"}],
        "org.units.imported": [{"file", "created", "by_level", "unchanged"}],
        "plugin.enablement_changed": [{"unit", "enabled"}],
        "login.succeeded": [set()],
        "password.changed": [set()],
        "grant.switched": [set()],
        "logout": [set()],
        # residents
        "resident.created": [{"unit", "version", "source"}],
        "resident.updated": [
            {"fields", "version", "source"},
            {"fields", "added", "removed", "batch", "version", "source"},
        ],
        "resident.revealed": [{"fields", "reason"}],
        "resident.transferred": [{"to_unit", "effective_on", "version", "source"}],
        "resident.removed": [{"reason", "version", "source"}],
        "resident.imported": [{"filename", "format", "rows", "created", "updated", "unchanged"}],
        "resident.exported": [
            {"purpose", "format", "columns", "rows", "filters", "include_sensitive", "revealed"}
        ],
        # collection
        "collection.form_created": [{"title"}],
        "collection.form_draft_saved": [{"version"}],
        "collection.form_published": [{"version"}],
        "collection.campaign_opened": [{"tasks", "targets"}],
        "collection.reminded": [{"units", "within"}],
        "collection.returned": [{"campaign_id", "comment"}],
        "collection.exported": [{"format", "within"}],
        # apps, calendar, data quality
        "app.registered": [{"slug", "units"}],
        "app.updated": [set()],
        "app.units_changed": [{"units"}],
        "app.secret_rotated": [set()],
        "app.webhook_secret_rotated": [set()],
        "app.webhooks_paused": [set()],
        "app.webhooks_resumed": [set()],
        "app.webhook_replayed": [{"app_id", "event_id"}],
        "app.disabled": [set()],
        "calendar.day_set": [{"kind", "name"}],
        "calendar.day_cleared": [set()],
        "quality.rule_saved": [{"version", "active", "check"}],
        "quality.confirmed": [set()],
        "quality.waived": [{"rule", "note"}],
        "quality.merged": [{"merged", "merge", "moved", "source"}],
        "quality.merge_undone": [{"merged", "merge", "source"}],
        "quality.not_duplicate": [set()],
        "quality.round_started": [{"rules", "campaign", "committees"}],
    }.items()
}

#: An expected entry: action and target type, and optionally detail values it must hold.
Audit = tuple[str, str | None] | tuple[str, str | None, dict[str, Any]]


class Trail:
    __test__ = False

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.walked: set[str] = set()
        self.mark()

    def mark(self) -> None:
        with Session(self.kernel.engine) as session:
            self.last_audit = session.exec(select(func.max(AuditEntry.id))).one() or 0
            self.counts = {
                name: session.exec(select(func.count()).select_from(model)).one()
                for name, model in HISTORY.items()
            }

    def entries(self) -> list[AuditEntry]:
        with Session(self.kernel.engine) as session:
            return list(
                session.exec(
                    select(AuditEntry)
                    .where(col(AuditEntry.id) > self.last_audit)
                    .order_by(col(AuditEntry.id))
                )
            )

    def step(
        self,
        route: str,
        response: Any,
        *,
        status: int | Iterable[int] = 200,
        audit: list[Audit],
        history: dict[str, int] | None = None,
    ) -> Any:
        """Check that ``route`` (``"POST /api/v1/users"``) answered ``status`` and left exactly
        ``audit`` and ``history`` (new rows per :data:`HISTORY` table; the others none)."""
        allowed = {status} if isinstance(status, int) else set(status)
        assert response.status_code in allowed, f"{route}: {response.status_code} {response.text}"
        written = self.entries()
        got = [(e.action, e.target_type) for e in written]
        assert got == [expected[:2] for expected in audit], f"{route} wrote {got}"
        for entry, expected in zip(written, audit, strict=True):
            check_entry(route, entry, expected[2] if len(expected) > 2 else {})
        with Session(self.kernel.engine) as session:
            grown = {
                name: session.exec(select(func.count()).select_from(model)).one()
                - self.counts[name]
                for name, model in HISTORY.items()
            }
        grown = {k: v for k, v in grown.items() if v}
        assert grown == (history or {}), f"{route} added history {grown}"
        self.walked.add(route)
        self.mark()
        return response

    def check_walked(self, routes: Iterable[str]) -> None:
        """Every route this area lists was walked by a step (the list cannot run ahead)."""
        assert set(routes) == self.walked, sorted(set(routes) ^ self.walked)


def check_entry(route: str, entry: AuditEntry, values: dict[str, Any]) -> None:
    """``entry`` names who acted and has the detail keys :data:`DETAIL` gives its action, with
    ``values`` among them."""
    assert entry.actor_user_id is not None or entry.actor_username, f"{route}: who acted?"
    shapes = DETAIL.get(entry.action)
    assert shapes is not None, f"{route}: declare the detail of {entry.action} in DETAIL"
    keys = frozenset(entry.detail)
    assert keys in shapes, f"{route}: {entry.action} detail {sorted(keys)}"
    wrong = {k: entry.detail.get(k) for k, v in values.items() if entry.detail.get(k) != v}
    assert not wrong, f"{route}: {entry.action} detail {wrong}, expected {values}"


def hidden(html: str, name: str) -> str:
    """The value of the hidden form field ``name`` (a token the next step sends back)."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)
