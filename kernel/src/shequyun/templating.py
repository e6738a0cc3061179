"""Jinja2 rendering for the portal: the kernel's templates plus each plugin's, namespaced.

A plugin's templates are addressed as ``<plugin>/<file>``. Every render gets the navigation,
the translation function ``_`` and whatever the plugins add through ``extra_template_vars``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from shequyun_sdk.types import NavEntry
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .i18n import LANGUAGES, gettext
from .plugin_host import PluginHost
from .portal.common import cn_date, cn_datetime

__all__ = ["Renderer"]

KERNEL_TEMPLATES = Path(__file__).parent / "templates"


LANGUAGE_COOKIE = "shequyun_lang"


def language_of(request: Request) -> str:
    """The visitor's chosen language (cookie), Chinese unless they chose otherwise."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else "zh_CN"


class Renderer:
    """Renders portal pages for the kernel and for plugins."""

    def __init__(
        self,
        host: PluginHost,
        nav: list[tuple[str, NavEntry]],
        role_titles: Mapping[str, str] | None = None,
        allowed: Callable[[str, Any], bool] | None = None,
    ) -> None:
        self.host = host
        self.nav = nav
        self.role_titles = dict(role_titles or {})
        self.allowed = allowed or (lambda plugin, actor: True)
        prefixed: dict[str, jinja2.BaseLoader] = {}
        for record, directory in host.collect("register_templates"):
            path = Path(directory)
            if not path.is_dir():
                host.fail(
                    record.name, f"register_templates returned {path}, which is not a directory"
                )
                continue
            prefixed[record.name] = jinja2.FileSystemLoader(path)
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(KERNEL_TEMPLATES), jinja2.PrefixLoader(prefixed)]
            ),
            autoescape=jinja2.select_autoescape(default=True),
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals["_"] = gettext
        self.env.filters["cn_date"] = cn_date
        self.env.filters["cn_datetime"] = cn_datetime

    def visible_nav(self, request: Request) -> list[NavEntry]:
        """Entries of active plugins the actor may use, sorted by order then label."""
        actor = request.scope.get("shequyun.actor")
        entries = [
            entry
            for name, entry in self.nav
            if self.host.is_active(name)
            and self.allowed(name, actor)
            and (entry.permission is None or (actor is not None and actor.has(entry.permission)))
        ]
        return sorted(entries, key=lambda e: (e.order, e.label))

    def role_title(self, role: str) -> str:
        return self.role_titles.get(role, role)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        actor = request.scope.get("shequyun.actor")
        language = language_of(request)
        values: dict[str, Any] = {
            "_": functools.partial(gettext, language=language),
            "language": language,
            "request": request,
            "nav": self.visible_nav(request),
            "actor": actor,
            "role_title": self.role_title(actor.role) if actor and actor.role else "",
            "csrf_token": request.scope.get("shequyun.csrf") or "",
        }
        for _record, extra in self.host.collect(
            "extra_template_vars", fail_plugin=False, request=request, template=template
        ):
            if isinstance(extra, Mapping):
                values.update(extra)
        values.update(context or {})
        html = self.env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status_code)
