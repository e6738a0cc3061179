"""What the collection endpoints share: the kernel, database work off the event loop, ids from
paths, the ``within`` filter, and a campaign's JSON view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.requests import Request

from ..identity.models import OrgUnit
from ..sessions import in_session
from .follow_up import find_within
from .models import Campaign, Form, FormVersion
from .tasks import aware

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kernel_of(request: Request) -> Any:
    return request.app.state.kernel


async def run_work(request: Request, work: Callable[[Session], Any], *, commit: bool) -> Any:
    return await in_session(request, work, commit=commit)


def within_unit(session: Session, actor: Any, request: Request, permission: str) -> OrgUnit | None:
    """The unit of the ``within`` query parameter (see :func:`.follow_up.find_within`)."""
    return find_within(session, actor, request.query_params.get("within"), permission)


# -- campaigns ---------------------------------------------------------------------------


def campaign_view(session: Session, campaign: Campaign) -> dict[str, Any]:
    version = session.get(FormVersion, campaign.form_version_id)
    assert version is not None
    form = session.get(Form, version.form_id)
    assert form is not None
    return {
        "id": campaign.id,
        "title": campaign.title,
        "instructions": campaign.instructions,
        "form": {"id": form.id, "title": form.title, "version": version.number},
        "mode": campaign.mode,
        "roster_filter": campaign.roster_filter,
        "writeback": campaign.writeback,
        "status": campaign.status,
        "starts_at": aware(campaign.starts_at).isoformat(),
        "deadline": aware(campaign.deadline).isoformat(),
    }
