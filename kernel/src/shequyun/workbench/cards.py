"""Workbench cards from plugins (the ``workbench_cards`` hook)."""

from __future__ import annotations

import logging
from typing import Any

from shequyun_sdk.identity import Actor
from shequyun_sdk.types import WorkbenchCard
from starlette.requests import Request

__all__ = ["collect_cards"]

log = logging.getLogger("shequyun.portal")


def collect_cards(kernel: Any, request: Request, actor: Actor) -> list[WorkbenchCard]:
    """Every card the plugins enabled for ``actor`` contribute, sorted; failures left out.

    Blocking (plugins may query the database): call it from a worker thread.
    """
    cards: list[WorkbenchCard] = []
    for record in kernel.host.active_records():
        if not kernel.enablement.allows(record.name, actor):
            continue
        contributed = kernel.host.call(
            record,
            "workbench_cards",
            fail_plugin=False,
            request=request,
            actor=actor,
            platform=kernel.platform,
        )
        if contributed is None:
            continue
        if not all(isinstance(card, WorkbenchCard) for card in contributed):
            log.error("plugin %s: workbench_cards must return WorkbenchCard objects", record.name)
            continue
        cards.extend(contributed)
    return sorted(cards, key=lambda c: (c.order, c.title))
