"""社区民生顾问 and 政策主动找人, built only against the SDK.

A policy pool as data (one YAML file per policy: conditions, dated parameters, documents, test
cases), evaluated over the whole resident database in SQL through the SDK's scope-filtered
population, with a plain Python evaluator that gives the same verdicts; outreach lists with
reasons and a funnel; advisor points, advisors and their service records; a resource pool.
See the package's README and docs/advisors.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import PluginContext, ResidentAttribute, hookimpl

from .models import (
    Advisor,
    AdvisorPoint,
    Case,
    CaseEvent,
    PolicyVersion,
    Receipt,
    Resource,
    ServiceRecord,
)

HERE = Path(__file__).parent

MANIFEST = {
    "name": "advisors",
    "version": "0.1.0",
    "title": {"zh": "社区民生顾问", "en": "Community livelihood advisors"},
    "description": {
        "zh": "政策池、政策主动找人、养老顾问与救助顾问的服务记录、资源池",
        "en": "Policy pool, policy finds people, advisors' service records, resource pool",
    },
    "sdk": ">=0.1,<0.2",
    "enabled_by_default": True,
}

DISABILITY_TYPES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]


@hookimpl
def register_resident_attributes(plugin: PluginContext) -> Sequence[ResidentAttribute]:
    return [
        ResidentAttribute(
            "disability_grade",
            "残疾等级",
            {"type": "integer", "minimum": 1, "maximum": 4},
            title_en="Disability grade",
            sensitive=True,
        ),
        ResidentAttribute(
            "disability_type",
            "残疾类别",
            {"type": "string", "enum": DISABILITY_TYPES},
            title_en="Kind of disability",
            sensitive=True,
        ),
        ResidentAttribute(
            "care_grade",
            "老年照护等级",
            {"type": "integer", "minimum": 0, "maximum": 6},
            title_en="Care-needs grade (unified assessment)",
            sensitive=True,
        ),
    ]


MODELS: list[type] = [
    PolicyVersion,
    Receipt,
    Case,
    CaseEvent,
    AdvisorPoint,
    Advisor,
    ServiceRecord,
    Resource,
]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return MODELS


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return HERE / "migrations"
