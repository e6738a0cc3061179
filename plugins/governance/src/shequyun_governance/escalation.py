"""The case channel's side of the SDK contract (:mod:`shequyun_sdk.cases`).

Any plugin — the 居社互动 plugin's 在线服务, a district app — asks for a case by publishing
``case.escalation_requested``; this plugin opens one case per ``(source, source_ref)``, however
often the event is delivered, as a case of the unit that raised it (立案, being handled), which
can then 上报 it further up. Every step of such a case is published back as ``case.updated``
(:func:`.cases.record_step`). Neither side imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import Event, Platform, PluginContext, Subscriber, ValidationFailed
from shequyun_sdk.cases import CASE_ESCALATION

from . import cases

__all__ = ["CATEGORY_HINTS", "subscribers"]

#: Hints other plugins send (the 居社互动 request categories) and the case category they mean.
CATEGORY_HINTS = {"repair": "facility", "help": "aid", "certificate": "other"}


def subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def escalation_requested(event: Event) -> None:
        payload = event.payload
        needed = ("source", "source_ref", "unit_code", "title", "description")
        if not all(isinstance(payload.get(k), str) and payload.get(k) for k in needed):
            plugin.logger.warning("case escalation %s lacks a field; ignored", event.id)
            return
        source, ref = str(payload["source"])[:16], str(payload["source_ref"])
        with platform.session() as session:
            if cases.by_source(session, source, ref) is not None:
                return  # delivered twice: the case is open already
            unit = platform.unit(session, str(payload["unit_code"]))
            if unit is None or unit.closed:
                plugin.logger.warning("case escalation %s names no open unit; ignored", event.id)
                return
            actor = platform.plugin_actor(plugin, unit=unit)
            hint = str(payload.get("category") or "")
            raw = {
                "title": str(payload["title"])[:120],
                "description": str(payload["description"])[:4000],
                "category": CATEGORY_HINTS.get(hint, hint) or "other",
                "address": str(payload.get("address") or "")[:200],
            }
            if payload.get("resident_id"):
                raw["subject"] = f"resident:{int(payload['resident_id'])}"
            try:
                opening = cases.check_opening(platform, session, actor, _known(session, raw))
            except ValidationFailed as exc:
                # The resident moved away, say: open the case without them rather than never.
                if raw.pop("subject", None) is None:
                    plugin.logger.warning("case escalation %s refused: %s", event.id, exc.message)
                    return
                opening = cases.check_opening(platform, session, actor, _known(session, raw))
            try:
                cases.open_case(
                    platform,
                    session,
                    actor,
                    opening,
                    source=source,
                    source_ref=ref,
                    origin=unit,
                    actor_name=str(payload.get("requested_by") or unit.name)[:80],
                )
            except cases.DuplicateSource:
                return  # another worker opened it at the same moment

    return [Subscriber(CASE_ESCALATION, escalation_requested, name="case_escalation")]


def _known(session: object, raw: dict[str, object]) -> dict[str, object]:
    """An unknown category hint falls back to 其他 rather than failing the delivery forever."""
    from . import categories

    codes = {c.code for c in categories.listed(session, "case")}  # type: ignore[arg-type]
    if raw["category"] not in codes:
        raw = {**raw, "category": "other"}
    return raw
