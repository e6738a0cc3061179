"""Panels plugins add to a resident's detail page (the ``resident_panels`` hook)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shequyun_sdk.identity import Actor
from shequyun_sdk.types import ResidentPanel
from starlette.requests import Request

__all__ = ["collect_panels"]

log = logging.getLogger("shequyun.residents")


def collect_panels(
    kernel: Any, request: Request, actor: Actor, resident: Mapping[str, Any]
) -> list[ResidentPanel]:
    """Every panel the plugins enabled for ``actor`` contribute, sorted; failures left out.

    Blocking (plugins may query the database): call it from a worker thread. ``resident`` is
    the view the actor may already see (masked).
    """
    panels: list[ResidentPanel] = []
    for record in kernel.host.active_records():
        if not kernel.enablement.allows(record.name, actor):
            continue
        contributed = kernel.host.call(
            record,
            "resident_panels",
            fail_plugin=False,
            request=request,
            actor=actor,
            platform=kernel.platform,
            resident=resident,
        )
        if contributed is None:
            continue
        if not all(isinstance(panel, ResidentPanel) for panel in contributed):
            log.error("plugin %s: resident_panels must return ResidentPanel objects", record.name)
            continue
        panels.extend(contributed)
    return sorted(panels, key=lambda p: (p.order, p.title))
