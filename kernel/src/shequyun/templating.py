"""Jinja2 rendering for the portal: the kernel's templates plus each plugin's, namespaced.

A plugin's templates are addressed as ``<plugin>/<file>``. Every render gets the navigation,
the translation function ``_``, the visitor a plugin recognised (``visitor_from_request``) and
whatever the plugins add through ``extra_template_vars``. ``_("…")`` in a plugin's template
reads that plugin's catalog first (``register_translations``), then the kernel's.

``_`` speaks the language of the page being rendered everywhere, also in macros imported
without context (``{% from "…" import field %}``), which see only the environment's globals.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
from jinja2.lexer import (
    TOKEN_COMMA,
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from shequyun_sdk.types import NavEntry, Visitor
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .display import DISPLAY_COOKIE, DisplayPreferences
from .i18n import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, LANGUAGES, Catalogs, gettext
from .plugin_host import PluginHost
from .portal.common import cn_date, cn_datetime

__all__ = ["Renderer"]

log = logging.getLogger("shequyun.templating")

#: The portal shell's templates (``base.html``, ``home.html``).
KERNEL_TEMPLATES = Path(__file__).parent / "templates"
#: Each kernel feature keeps its templates in ``<feature>/templates/<feature>/…`` (as Django
#: apps do), so a template keeps one name wherever its folder lives.
FEATURE_TEMPLATES = sorted(p for p in Path(__file__).parent.glob("*/templates") if p.is_dir())
#: What ``_(`` becomes in a plugin's template: ``_in_catalog("<plugin>", …)``.
DOMAIN_GETTEXT = "_in_catalog"


#: The language of the page being rendered, for the environment's ``_``: a macro imported
#: without context sees the globals, not the page's variables.
_rendering: ContextVar[str] = ContextVar("shequyun_rendering_language", default=DEFAULT_LANGUAGE)


def _gettext_rendering(message: str, /, **params: object) -> str:
    return gettext(message, _rendering.get(), **params)


#: Statuses of a page sent back for its input (refused, conflicting): its title begins 错误：.
REFUSED = frozenset({400, 409, 422})

#: request.scope: the visitor found for this request (None included), so it is asked once.
_VISITOR = "shequyun.visitor"


def language_of(request: Request) -> str:
    """The visitor's chosen language (cookie), Chinese unless they chose otherwise."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else "zh_CN"


class PluginCatalogs(jinja2.ext.Extension):
    """Makes ``_("…")`` in a plugin's template read that plugin's catalog first.

    While a template from a plugin's directory is tokenized, each call ``_(`` becomes
    ``_in_catalog("<plugin>", `` — so the catalog is decided by the template that wrote the
    string, also inside the kernel's ``base.html`` blocks, includes and macros. The kernel's own
    templates are left as they are. Give the plugins' directories with
    ``environment.extend(template_domains={directory: plugin name})``.
    """

    def filter_stream(self, stream: TokenStream) -> TokenStream | Iterator[Token]:
        domains: Mapping[str, str] = getattr(self.environment, "template_domains", {})
        filename = os.path.normpath(stream.filename or "")
        for directory, domain in domains.items():
            if filename.startswith(directory + os.sep):
                return _with_domain(stream, domain)
        return stream


def _with_domain(stream: TokenStream, domain: str) -> Iterator[Token]:
    opening = after_dot = False
    for token in stream:
        if opening:  # the "(" of a rewritten call: the domain becomes its first argument
            yield token
            yield Token(token.lineno, TOKEN_STRING, domain)
            yield Token(token.lineno, TOKEN_COMMA, ",")
            opening = False
        elif (
            token.type == TOKEN_NAME
            and token.value == "_"
            and not after_dot
            and stream.current.type == TOKEN_LPAREN
        ):
            yield Token(token.lineno, TOKEN_NAME, DOMAIN_GETTEXT)
            opening = True
        else:
            yield token
        after_dot = token.type == TOKEN_DOT


class Renderer:
    """Renders portal pages for the kernel and for plugins."""

    def __init__(
        self,
        host: PluginHost,
        nav: list[tuple[str, NavEntry]],
        role_titles: Mapping[str, str] | None = None,
        allowed: Callable[[str, Any], bool] | None = None,
        display: DisplayPreferences | None = None,
        role_titles_en: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.display = display
        self.nav = nav
        self.role_titles = dict(role_titles or {})
        self.role_titles_en = dict(role_titles_en or {})
        self.allowed = allowed or (lambda plugin, actor: True)
        self.catalogs = _collect_catalogs(host)
        prefixed: dict[str, jinja2.BaseLoader] = {}
        domains: dict[str, str] = {}
        for record, directory in host.collect("register_templates"):
            path = Path(directory)
            if not path.is_dir():
                host.fail(
                    record.name, f"register_templates returned {path}, which is not a directory"
                )
                continue
            prefixed[record.name] = jinja2.FileSystemLoader(path)
            domains[os.path.normpath(path)] = record.name
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.FileSystemLoader([KERNEL_TEMPLATES, *FEATURE_TEMPLATES]),
                    jinja2.PrefixLoader(prefixed),
                ]
            ),
            autoescape=jinja2.select_autoescape(default=True),
            undefined=jinja2.StrictUndefined,
            extensions=[PluginCatalogs],
        )
        self.env.extend(template_domains=domains)
        self.env.globals["_"] = _gettext_rendering
        self.env.globals[DOMAIN_GETTEXT] = self._catalog_gettext_rendering
        # Dates follow the page's language too (27 Nov 2026 in English).
        self.env.filters["cn_date"] = lambda value: cn_date(value, _rendering.get())
        self.env.filters["cn_datetime"] = lambda value: cn_datetime(value, _rendering.get())

    def _catalog_gettext_rendering(
        self, domain: str | None, message: str, /, **params: object
    ) -> str:
        return self.catalogs.gettext(domain, message, language=_rendering.get(), **params)

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

    def role_title(self, role: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The role's title in ``language``: its English title when it has one, else Chinese."""
        if language == "en" and self.role_titles_en.get(role):
            return self.role_titles_en[role]
        return self.role_titles.get(role, role)

    def translator(self, request: Request, domain: str | None) -> Callable[..., str]:
        """``_(message, **params)`` for Python code: ``domain``'s catalog (a plugin's name),
        then the kernel's, in the language of ``request``'s visitor."""
        return functools.partial(self.catalogs.gettext, domain, language=language_of(request))

    def visitor(self, request: Request) -> Visitor | None:
        """Who an anonymous (no staff login) visitor is, by the first plugin that knows them;
        asked once per request (a plugin's page asks through ``platform.visitor``, then the
        shell it renders in asks again)."""
        if _VISITOR in request.scope:
            known: Visitor | None = request.scope[_VISITOR]
            return known
        found = self._find_visitor(request)
        request.scope[_VISITOR] = found
        return found

    def _find_visitor(self, request: Request) -> Visitor | None:
        for record in self.host.active_records():
            if not self.allowed(record.name, None):
                continue
            found = self.host.call(
                record, "visitor_from_request", fail_plugin=False, request=request
            )
            if isinstance(found, Visitor):
                if found.account_key:  # one plugin's account numbers are not another's
                    key = f"{record.name}:{found.account_key}"[:160]
                    return dataclasses.replace(found, account_key=key)
                return found
            if found is not None:
                log.error(
                    "plugin %s: visitor_from_request returned %r, not a Visitor", record.name, found
                )
        return None

    def display_key(self, actor: Any, visitor: Visitor | None) -> str | None:
        """Under which account 大字模式 is kept: the staff user, or the visitor a plugin signed
        in (when it names the account); None for anyone else (their browser keeps it)."""
        if actor is not None:
            return f"user:{actor.user_id}" if actor.user_id is not None else None
        return visitor.account_key if visitor is not None else None

    def display_mode(self, request: Request, actor: Any, visitor: Visitor | None) -> str:
        """``large`` or ``normal``: the account's choice when it made one, else the browser's."""
        key = self.display_key(actor, visitor)
        if key is not None and self.display is not None:
            mode = self.display.mode_of(key)
            if mode is not None:
                return mode
        return "large" if request.cookies.get(DISPLAY_COOKIE) == "large" else "normal"

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
        visitor = self.visitor(request) if actor is None else None
        values: dict[str, Any] = {
            "_": functools.partial(gettext, language=language),
            DOMAIN_GETTEXT: functools.partial(self.catalogs.gettext, language=language),
            "language": language,
            "large_text": self.display_mode(request, actor, visitor) == "large",
            "request": request,
            "nav": self.visible_nav(request),
            "actor": actor,
            "portal_visitor": visitor,
            "role_title": self.role_title(actor.role, language) if actor and actor.role else "",
            "csrf_token": request.scope.get("shequyun.csrf") or "",
            # A form sent back to be corrected: its title says so first, as a screen reader
            # reads the title before anything else on the page.
            "page_refused": status_code in REFUSED,
        }
        for _record, extra in self.host.collect(
            "extra_template_vars", fail_plugin=False, request=request, template=template
        ):
            if isinstance(extra, Mapping):
                values.update(extra)
        values.update(context or {})
        token = _rendering.set(language)
        try:
            html = self.env.get_template(template).render(values)
        finally:
            _rendering.reset(token)
        return HTMLResponse(html, status_code=status_code)


def _collect_catalogs(host: PluginHost) -> Catalogs:
    """Every active plugin's ``register_translations`` directory, read now; a plugin whose
    directory is missing or holds a malformed ``.po`` file fails with the reason."""
    catalogs = Catalogs()
    for record, directory in host.collect("register_translations"):
        path = Path(directory)
        if not path.is_dir():
            host.fail(
                record.name, f"register_translations returned {path}, which is not a directory"
            )
            continue
        try:
            catalogs.add(record.name, path)
        except Exception as exc:  # babel's PoFileError, OSError, UnicodeDecodeError
            host.fail(record.name, f"register_translations: unreadable catalog: {exc}", exc)
    return catalogs
