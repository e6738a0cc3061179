"""Where the plugin is switched on, for residents, whom the kernel does not know.

An administrator may switch the plugin off for a district, a street or a committee. The kernel
then hides it from the cadres working there, but residents sign in to this plugin, not to the
kernel, so the plugin asks :meth:`Platform.plugin_enabled_at` itself, with the place of each
resident (their committee, read afresh) or of each piece of public content (its unit):

- a verified resident whose committee has it off is refused the resident features (403);
- verification into such a committee is refused (403), and nothing is linked;
- announcements and disclosures of units where it is off are not served (404), and are left
  out of listings.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, Platform, UnitRef

__all__ = ["NOT_OPEN", "NotOpen", "is_open", "refuse_content", "refuse_resident"]

NOT_OPEN = "本社区未开通居社互动"


class NotOpen(ApiError):
    """The plugin is switched off where the resident lives (``unit``), or where the content
    belongs. The pages show it as the plugin's own page, the API as the error shape."""

    status_code = 403
    code = "not_enabled"

    def __init__(self, message: str, *, unit: UnitRef | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.unit = unit


def is_open(platform: Platform, plugin_name: str, unit: UnitRef) -> bool:
    """Whether plugin ``plugin_name`` (this plugin's own name) is switched on at ``unit``."""
    return platform.plugin_enabled_at(plugin_name, unit)


def refuse_resident(unit: UnitRef, *, field: str | None = None, doing: str = "") -> NotOpen:
    """403 for a resident of ``unit``: the features are not offered there."""
    detail = f"（{unit.name}）" if unit.name else ""
    tail = f"，{doing}" if doing else "，如有疑问请联系居委会"
    return NotOpen(f"{NOT_OPEN}{detail}{tail}", unit=unit, field=field, extra={"unit": unit.code})


def refuse_content(*, field: str | None = None) -> NotOpen:
    """404 for content of a unit where the plugin is off: as if it were not there."""
    return NotOpen(NOT_OPEN, field=field, status_code=404)
