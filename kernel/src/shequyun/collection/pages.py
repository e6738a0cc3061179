"""Portal pages of one-click collection: my tasks, filling a form, publishing, progress, results.

Every page calls the collection services the API uses (never the API over HTTP), so scope,
validation, idempotency and history are the same for a cadre in the portal and for a script.
Objects outside the actor's scope answer 404, as in the API.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from .pages_builder import builder_edit, builder_new, form_download, form_import, form_template
from .pages_campaigns import (
    campaign_new,
    campaign_page,
    campaign_remind,
    campaign_results,
    campaigns_page,
)
from .pages_forms import form_page, form_publish, form_version_new, forms_page
from .pages_tasks import task_page, task_post, task_return, tasks_page

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    Route("/collection/tasks", tasks_page, methods=["GET"]),
    Route("/collection/tasks/{task_id}", task_page, methods=["GET"]),
    Route("/collection/tasks/{task_id}", task_post, methods=["POST"]),
    Route("/collection/tasks/{task_id}/return", task_return, methods=["POST"]),
    Route("/collection/forms", forms_page, methods=["GET"]),
    Route("/collection/forms/new", builder_new, methods=["GET", "POST"]),
    Route("/collection/forms/import", form_import, methods=["GET", "POST"]),
    Route("/collection/forms/template.xlsx", form_template, methods=["GET"]),
    Route("/collection/forms/{form_id}", form_page, methods=["GET"]),
    Route("/collection/forms/{form_id}/edit", builder_edit, methods=["GET", "POST"]),
    Route(
        "/collection/forms/{form_id}/versions/{number}/form.xlsx", form_download, methods=["GET"]
    ),
    Route("/collection/forms/{form_id}/versions", form_version_new, methods=["POST"]),
    Route("/collection/forms/{form_id}/versions/{number}/publish", form_publish, methods=["POST"]),
    Route("/collection/campaigns", campaigns_page, methods=["GET"]),
    Route("/collection/campaigns/new", campaign_new, methods=["GET", "POST"]),
    Route("/collection/campaigns/{campaign_id}", campaign_page, methods=["GET"]),
    Route("/collection/campaigns/{campaign_id}/remind", campaign_remind, methods=["POST"]),
    Route("/collection/campaigns/{campaign_id}/results", campaign_results, methods=["GET"]),
]
