"""Every API route of the plugin, under ``/api/v1/plugins/governance/`` (OpenAPI tag
``governance``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import api_cases, api_intake, api_knowledge, api_logs, api_stats

ROUTES: list[BaseRoute] = [
    *api_cases.ROUTES,
    *api_intake.ROUTES,
    *api_logs.ROUTES,
    *api_knowledge.ROUTES,
    *api_stats.ROUTES,
]
