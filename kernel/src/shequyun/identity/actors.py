"""Actors are issued by the kernel, and the kernel accepts only the actors it issued.

An :class:`~shequyun_sdk.identity.Actor` is a plain frozen dataclass, so nothing stops a plugin
from writing ``Actor(user_id=1, permissions={...})`` — or copying a real one with wider
permissions through :func:`dataclasses.replace`. Every actor the kernel hands out goes through
:func:`issue`, which remembers that very object and what it said; :func:`check` (called by the
scope checks and the audit log, which every rule goes through) refuses any other object, and an
issued one whose fields were changed since, with :class:`~shequyun_sdk.identity.ActorNotIssued`.

The record is by object identity, held through weak references: it costs a dictionary lookup
per check and forgets an actor when the actor itself is garbage-collected.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping

from shequyun_sdk.identity import Actor, ActorNotIssued, UnitRef

__all__ = ["actor_title", "check", "is_issued", "issue", "plugin_actor"]

# id(actor) -> (a weak reference to it, its fields when issued)
_issued: dict[int, tuple[weakref.ref[Actor], tuple[object, ...]]] = {}


def _fields(actor: Actor) -> tuple[object, ...]:
    return (
        actor.user_id,
        actor.username,
        actor.grant_id,
        actor.role,
        actor.unit,
        actor.permissions,
        actor.via,
        actor.must_change_password,
        actor.plugin,
    )


def issue(actor: Actor) -> Actor:
    """Record ``actor`` as issued by the kernel and return it.

    Only kernel code that established who is acting (authentication, a plugin's own actor, a
    benchmark's fixture) calls this.
    """
    key = id(actor)

    def forget(_: weakref.ref[Actor], key: int = key) -> None:
        entry = _issued.get(key)
        if entry is not None and entry[0]() is None:
            _issued.pop(key, None)

    _issued[key] = (weakref.ref(actor, forget), _fields(actor))
    return actor


def is_issued(actor: Actor) -> bool:
    """Whether ``actor`` is an object the kernel issued, unchanged since."""
    entry = _issued.get(id(actor))
    return entry is not None and entry[0]() is actor and entry[1] == _fields(actor)


def check(actor: Actor | None) -> None:
    """Refuse an actor the kernel did not issue (None, for no actor, passes)."""
    if actor is not None and not is_issued(actor):
        raise ActorNotIssued(actor)


def plugin_actor(name: str, title: str, unit: UnitRef | None, permissions: Iterable[str]) -> Actor:
    """A new issued actor for plugin ``name`` acting as itself on ``unit``'s subtree."""
    return issue(
        Actor(
            user_id=None,
            username=f"plugin:{name}",
            display_name=title,
            grant_id=None,
            role=None,
            unit=unit,
            permissions=frozenset(permissions),
            via="plugin",
            plugin=name,
        )
    )


def actor_title(
    username: str | None,
    display_name: str | None = None,
    plugins: Mapping[str, str] | None = None,
    *,
    nobody: str = "系统",
) -> str:
    """Who did something, as a history or log line names them: a person's display name; a
    plugin acting as itself (``plugin:advisors``) by its title, ``政策找人（插件）``, given
    ``plugins`` (name to title; an unknown plugin reads ``插件 advisors``); else the login
    name, or ``nobody`` when there is none."""
    if display_name:
        return display_name
    if username and username.startswith("plugin:"):
        name = username.removeprefix("plugin:")
        title = (plugins or {}).get(name)
        return f"{title}（插件）" if title else f"插件 {name}"
    return username or nobody
