"""Walking the state-changing routes and reading what each step left behind.

A :class:`Trail` remembers where the audit log and the history tables stood; each
:meth:`Trail.step` checks one answer, then that exactly the given audit entries (action and
target, in order) and history rows were written since the last step, and moves the mark on.
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

Audit = tuple[str, str | None]


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
        assert got == audit, f"{route} wrote {got}"
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


def hidden(html: str, name: str) -> str:
    """The value of the hidden form field ``name`` (a token the next step sends back)."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)
