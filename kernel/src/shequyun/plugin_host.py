"""Discovering, validating and guarding plugins.

Every plugin, the kernel's own default plugins included, goes through :meth:`PluginHost.load`:
its entry point is imported inside a guard, its manifest is validated, its SDK range, its
dependencies and its settings are checked, and only then is it registered with pluggy. Any
failure marks *that* plugin failed with a reason and the rest of the platform carries on.

Hooks are called one plugin at a time through :meth:`PluginHost.call`, so that each plugin gets
its own ``plugin`` context and an exception is charged to the plugin that raised it.
"""

from __future__ import annotations

import inspect
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Any

import importlib_metadata
import jsonschema
import pluggy
import shequyun_sdk
from shequyun_sdk import hookspecs
from shequyun_sdk.manifest import ManifestError, check_manifest, sdk_range_allows
from shequyun_sdk.types import PluginContext

from .i18n import Message
from .schema_messages import named_in_chinese
from .settings import Settings

__all__ = ["PluginHost", "PluginRecord", "PluginState"]

log = logging.getLogger("shequyun.plugins")

API_PREFIX = "/api/v1"
#: How the reason of a plugin failed by its settings begins; each problem follows, named.
SETTINGS_INVALID = "设置无效："


class PluginState(StrEnum):
    ACTIVE = "active"
    FAILED = "failed"
    DISABLED = "disabled"
    NOT_ALLOWED = "not_allowed"


@dataclass
class PluginRecord:
    """What the kernel knows about one plugin, whether it loaded or not."""

    name: str
    origin: str
    builtin: bool = False
    distribution: str | None = None
    state: PluginState = PluginState.ACTIVE
    reason: str = ""
    module: Any = None
    manifest: dict[str, Any] = field(default_factory=dict)
    context: PluginContext | None = None

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    @property
    def title(self) -> str:
        title = self.manifest.get("title") or {}
        return str(title.get("zh", self.name))

    @property
    def active(self) -> bool:
        return self.state is PluginState.ACTIVE


@dataclass(frozen=True)
class Candidate:
    """A plugin offered for loading: an entry point, a builtin module or a test's object."""

    name: str
    origin: str
    load: Any  # () -> module or object carrying MANIFEST and hook implementations
    builtin: bool = False
    distribution: str | None = None


class PluginHost:
    """Owns the pluggy manager and the record of every plugin's state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self._order: list[str] = []
        #: Increases whenever a plugin fails, so caches of what plugins contribute can expire.
        self.generation = 0
        self._callers: dict[tuple[str, str], Any] = {}
        self._undo_tracing: Callable[[], None] | None = None
        if settings.trace_hooks:
            self.enable_tracing()

    # -- loading -------------------------------------------------------------------------

    def load(self, candidates: Iterable[Candidate]) -> None:
        """Load every candidate inside its own guard, then settle dependencies and settings."""
        for candidate in candidates:
            self._load_one(candidate)
        # Settings first: a plugin failing its settings must also fail those requiring it.
        self._settle_settings()
        self._settle_requirements()

    def _load_one(self, candidate: Candidate) -> None:
        name = candidate.name
        record = PluginRecord(
            name=name,
            origin=candidate.origin,
            builtin=candidate.builtin,
            distribution=candidate.distribution,
        )
        if name in self.records:
            # Keep the first; record the clash under a distinct key so it is visible.
            key = f"{name} ({candidate.origin})"
            record.name = key
            self.records[key] = record
            self._fail(
                record, Message("another plugin named {name} is already loaded", name=repr(name))
            )
            return
        self.records[name] = record
        if not candidate.builtin:
            if name in self.settings.plugins_disabled:
                record.state = PluginState.DISABLED
                record.reason = Message("disabled by the plugins_disabled setting")
                return
            allowed = self.settings.plugins_allowed
            if allowed is not None and name not in allowed:
                record.state = PluginState.NOT_ALLOWED
                record.reason = Message("not in the plugins_allowed setting")
                return
        try:
            module = candidate.load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._fail(record, Message("import failed: {error}", error=_describe(exc)), exc)
            return
        record.module = module
        manifest = getattr(module, "MANIFEST", None)
        if manifest is None:
            self._fail(record, Message("the plugin has no MANIFEST"))
            return
        try:
            check_manifest(manifest)
        except ManifestError as exc:
            self._fail(record, Message("invalid manifest: {error}", error=str(exc)))
            return
        record.manifest = dict(manifest)
        if manifest["name"] != name:
            self._fail(
                record,
                f"manifest name {manifest['name']!r} differs from entry point name {name!r}",
            )
            return
        if not sdk_range_allows(
            manifest["sdk"], shequyun_sdk.__version__, shequyun_sdk.COMPATIBLE_WITH
        ):
            self._fail(
                record,
                f"needs SDK {manifest['sdk']}, but this platform provides SDK "
                f"{shequyun_sdk.__version__}",
            )
            return
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            self._fail(record, f"hook validation failed: {_validation_reason(exc)}")
            return
        except Exception as exc:  # a repeated object
            self._fail(record, f"hook validation failed: {_describe(exc)}")
            return
        unknown = [
            caller.name for caller in self.pm.get_hookcallers(module) or [] if caller.spec is None
        ]
        if unknown:
            self.pm.unregister(module)
            self._fail(record, f"implements unknown hooks: {', '.join(sorted(unknown))}")
            return
        self._order.append(name)

    def _settle_requirements(self) -> None:
        """Fail every plugin whose ``requires`` are not all active, then order by dependency."""
        changed = True
        while changed:
            changed = False
            for record in self.active_records():
                missing = [
                    req
                    for req in record.manifest.get("requires", [])
                    if req not in self.records or not self.records[req].active
                ]
                if missing:
                    self._fail(
                        record,
                        Message(
                            "requires plugins that are not active: {names}",
                            names=", ".join(missing),
                        ),
                    )
                    changed = True
        order, cyclic = _dependency_order(
            [self.records[n] for n in self._order if self.records[n].active]
        )
        for name in cyclic:
            self._fail(self.records[name], f"dependency cycle among: {', '.join(cyclic)}")
        self._order = order

    def _settle_settings(self) -> None:
        for record in [self.records[n] for n in self._order if self.records[n].active]:
            configured = self.settings.settings_for_plugin(record.name)
            schema = record.manifest.get("settings_schema")
            values = _with_defaults(schema, configured) if schema else configured
            if schema:
                # In Chinese, naming each setting: the operator and the administrators reading
                # the plugin listing are who must fix it.
                errors = jsonschema.Draft202012Validator(schema).iter_errors(values)
                problems = [
                    named_in_chinese(e, schema, "设置")
                    for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
                ]
                if problems:
                    self._fail(record, SETTINGS_INVALID + "；".join(problems))
                    continue
            record.context = self._context_for(record, values)
            problems_from_hook = self.call(record, "validate_settings", settings=values)
            if problems_from_hook:
                self._fail(record, SETTINGS_INVALID + "；".join(map(str, problems_from_hook)))

    def _context_for(self, record: PluginRecord, settings: dict[str, Any]) -> PluginContext:
        mount = "" if record.builtin else f"/plugins/{record.name}"
        api_mount = API_PREFIX if record.builtin else f"{API_PREFIX}/plugins/{record.name}"
        return PluginContext(
            name=record.name,
            version=record.version,
            manifest=record.manifest,
            settings=settings,
            mount=mount,
            api_mount=api_mount,
        )

    # -- state ----------------------------------------------------------------------------

    def active_records(self) -> list[PluginRecord]:
        """Active plugins in call order: builtins first, every plugin after what it requires."""
        return [self.records[n] for n in self._order if self.records[n].active]

    def titles(self) -> dict[str, str]:
        """Every known plugin's Chinese title by name, loaded or not: history written by a
        plugin since switched off still names it."""
        return {name: record.title for name, record in self.records.items()}

    def is_active(self, name: str) -> bool:
        record = self.records.get(name)
        return record is not None and record.active

    def fail(self, name: str, reason: str, exc: BaseException | None = None) -> None:
        """Mark an active plugin failed and withdraw its hook implementations."""
        self._fail(self.records[name], reason, exc)

    def _fail(self, record: PluginRecord, reason: str, exc: BaseException | None = None) -> None:
        record.state = PluginState.FAILED
        record.reason = reason
        self.generation += 1
        if record.module is not None and self.pm.is_registered(record.module):
            self.pm.unregister(record.module)
        if exc is not None:
            log.error("plugin %s failed: %s\n%s", record.name, reason, _traceback(exc))
        else:
            log.error("plugin %s failed: %s", record.name, reason)
        for dependent in self.active_records():
            if record.name in dependent.manifest.get("requires", []):
                self._fail(
                    dependent,
                    Message("requires plugins that are not active: {names}", names=record.name),
                )

    # -- calling hooks ---------------------------------------------------------------------

    def call(
        self, record: PluginRecord, hook_name: str, *, fail_plugin: bool = True, **kwargs: Any
    ) -> Any:
        """Call one plugin's implementation of ``hook_name`` and return its result (or None).

        ``plugin`` is passed automatically. When the implementation raises, the plugin is
        marked failed if ``fail_plugin`` (start-up hooks), otherwise the error is only logged
        (per-request hooks); either way None is returned and other plugins are unaffected.
        """
        if not record.active or record.module is None:
            return None
        caller = self._caller(record, hook_name)
        if not caller.get_hookimpls():
            return None
        try:
            results = caller(plugin=record.context, **kwargs)
        except Exception as exc:
            reason = Message("hook {hook} raised {error}", hook=hook_name, error=_describe(exc))
            if fail_plugin:
                self._fail(record, reason, exc)
            else:
                log.error("plugin %s: %s\n%s", record.name, reason, _traceback(exc))
            return None
        return results[0] if results else None

    def collect(
        self, hook_name: str, *, fail_plugin: bool = True, **kwargs: Any
    ) -> list[tuple[PluginRecord, Any]]:
        """Call ``hook_name`` on every active plugin; return ``(record, result)`` for results."""
        collected = []
        for record in self.active_records():
            result = self.call(record, hook_name, fail_plugin=fail_plugin, **kwargs)
            if result is not None:
                collected.append((record, result))
        return collected

    def call_strict(self, record: PluginRecord, hook_name: str, **kwargs: Any) -> Any:
        """Like :meth:`call`, but an exception propagates: for hooks that take part in the
        caller's transaction, where a plugin's failure must abort the whole operation."""
        if not record.active or record.module is None:
            return None
        caller = self._caller(record, hook_name)
        if not caller.get_hookimpls():
            return None
        results = caller(plugin=record.context, **kwargs)
        return results[0] if results else None

    def _caller(self, record: PluginRecord, hook_name: str) -> Any:
        """The hook caller reaching only ``record``'s plugin, made once (per-request hooks
        such as ``extra_template_vars`` run on every page)."""
        key = (record.name, hook_name)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for p in self.pm.get_plugins() if p is not record.module]
            caller = self._callers[key] = self.pm.subset_hook_caller(
                hook_name, remove_plugins=others
            )
        return caller

    # -- tracing ---------------------------------------------------------------------------

    def enable_tracing(self) -> None:
        """Log every hook call, its plugins and its outcome (``SHEQUYUN_TRACE_HOOKS=1``)."""
        trace_log = logging.getLogger("shequyun.hooks")

        def before(
            hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
        ) -> None:
            trace_log.info(
                "call %s -> %s", hook_name, ", ".join(i.plugin_name for i in impls) or "(none)"
            )

        def after(
            outcome: pluggy.Result[Any],
            hook_name: str,
            impls: Sequence[pluggy.HookImpl],
            kwargs: Mapping[str, Any],
        ) -> None:
            exc = outcome.exception
            trace_log.info("done %s%s", hook_name, f" raised {_describe(exc)}" if exc else "")

        self._undo_tracing = self.pm.add_hookcall_monitoring(before, after)


def entry_point_candidates(group: str = shequyun_sdk.ENTRY_POINT_GROUP) -> list[Candidate]:
    """Every plugin installed as a distribution, in name order."""
    candidates = []
    for ep in sorted(importlib_metadata.entry_points(group=group), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist is not None else None
        candidates.append(
            Candidate(
                name=ep.name,
                origin=f"entry point {ep.value}" + (f" ({dist})" if dist else ""),
                load=ep.load,
                distribution=dist,
            )
        )
    return candidates


def object_candidates(objects: Iterable[Any], *, origin: str = "registered") -> list[Candidate]:
    """Plugins given as objects (modules or classes carrying ``MANIFEST``), e.g. by a test."""
    candidates = []
    for obj in objects:
        manifest = getattr(obj, "MANIFEST", None) or {}
        name = str(manifest.get("name") or getattr(obj, "__name__", repr(obj)))
        candidates.append(Candidate(name=name, origin=origin, load=lambda obj=obj: obj))
    return candidates


def builtin_candidates(modules: Iterable[ModuleType]) -> list[Candidate]:
    return [
        Candidate(
            name=m.MANIFEST["name"],
            origin=f"builtin {m.__name__}",
            load=lambda m=m: m,
            builtin=True,
        )
        for m in modules
    ]


def _dependency_order(records: list[PluginRecord]) -> tuple[list[str], list[str]]:
    """Builtins first (in given order), then each plugin after its requirements, by name.

    Returns the order and the names caught in a requirement cycle (left out of the order).
    """
    ordered: list[str] = [r.name for r in records if r.builtin]
    pending = sorted((r for r in records if not r.builtin), key=lambda r: r.name)
    placed = set(ordered)
    while pending:
        ready = next(
            (r for r in pending if all(req in placed for req in r.manifest.get("requires", []))),
            None,
        )
        if ready is None:
            return ordered, [r.name for r in pending]
        ordered.append(ready.name)
        placed.add(ready.name)
        pending.remove(ready)
    return ordered, []


def _with_defaults(schema: dict[str, Any], configured: dict[str, Any]) -> dict[str, Any]:
    values = dict(configured)
    for key, prop in (schema.get("properties") or {}).items():
        if key not in values and isinstance(prop, dict) and "default" in prop:
            values[key] = prop["default"]
    return values


def _validation_reason(exc: pluggy.PluginValidationError) -> str:
    """pluggy's whole message on one line (its first line names no argument), with the
    arguments the hook offers when an implementation asks for one it does not."""
    reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    hook = re.search(r"for hook '(\w+)'", reason)
    spec = getattr(hookspecs, hook[1], None) if hook else None
    if spec is not None and "can not be found in the hookspec" in reason:
        assert hook is not None
        offered = ", ".join(inspect.signature(spec).parameters)
        reason += f"; {hook[1]} offers: {offered}"
    return reason


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).rstrip()
