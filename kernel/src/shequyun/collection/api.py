"""``/api/v1/forms``, ``/campaigns`` and ``/tasks``: one-click collection over HTTP."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from .api_campaigns import (
    campaign_export,
    campaign_overdue,
    campaign_progress,
    campaign_results,
    campaign_submissions,
    get_campaign,
    list_campaigns,
    open_campaign,
    remind,
)
from .api_forms import (
    create_form,
    create_form_from_workbook,
    get_form,
    get_version,
    list_forms,
    publish_version,
    save_draft_version,
    version_workbook,
)
from .api_tasks import get_task, my_tasks, return_task, save_task_draft, submit_task

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    Route("/forms", list_forms, methods=["GET"]),
    Route("/forms", create_form, methods=["POST"]),
    Route("/forms/xlsx", create_form_from_workbook, methods=["POST"]),
    Route("/forms/{form_id}", get_form, methods=["GET"]),
    Route("/forms/{form_id}/versions", save_draft_version, methods=["POST"]),
    Route("/forms/{form_id}/versions/{number}", get_version, methods=["GET"]),
    Route("/forms/{form_id}/versions/{number}/publish", publish_version, methods=["POST"]),
    Route("/forms/{form_id}/versions/{number}/xlsx", version_workbook, methods=["GET"]),
    Route("/campaigns", list_campaigns, methods=["GET"]),
    Route("/campaigns", open_campaign, methods=["POST"]),
    Route("/campaigns/{campaign_id}", get_campaign, methods=["GET"]),
    Route("/campaigns/{campaign_id}/progress", campaign_progress, methods=["GET"]),
    Route("/campaigns/{campaign_id}/overdue", campaign_overdue, methods=["GET"]),
    Route("/campaigns/{campaign_id}/remind", remind, methods=["POST"]),
    Route("/campaigns/{campaign_id}/results", campaign_results, methods=["GET"]),
    Route("/campaigns/{campaign_id}/export", campaign_export, methods=["GET"]),
    Route("/campaigns/{campaign_id}/submissions", campaign_submissions, methods=["GET"]),
    Route("/tasks", my_tasks, methods=["GET"]),
    Route("/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/tasks/{task_id}/draft", save_task_draft, methods=["PUT"]),
    Route("/tasks/{task_id}/submit", submit_task, methods=["POST"]),
    Route("/tasks/{task_id}/return", return_task, methods=["POST"]),
]
