"""Default plugin ``calendar``: the working-day calendar deadlines count by (放假与调休).

The arrangement ships with the SDK (:mod:`shequyun_sdk.workdays`); administrators holding
``calendar.manage`` (the platform administrator) edit days over it when the State Council
publishes a year's notice. Plugins read the calendar in force with ``Platform.work_calendar``.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import PluginContext, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from . import api
from .models import CalendarEdit

MANIFEST = {
    "name": "calendar",
    "version": VERSION,
    "title": {"zh": "工作日历", "en": "Working-day calendar"},
    "description": {
        "zh": "法定节假日与调休安排，期限按工作日计算",
        "en": "Public holidays and make-up working days that deadlines count by",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
    "permissions": [
        {"name": "calendar.manage", "title": {"zh": "维护节假日安排", "en": "Edit the calendar"}}
    ],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [CalendarEdit]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.ROUTES
