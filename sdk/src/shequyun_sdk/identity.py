"""Who is acting, and where: actors, org-unit references and the route guard.

The kernel authenticates every request (portal session or ``Authorization: Bearer`` token) and
attaches an :class:`Actor`. Checks are made with :meth:`Platform.can` for one object and
:meth:`Platform.scope_filter` for lists; both derive from the same grant, so a list never shows
what a check would refuse.

Actors are issued by the kernel, never made by hand: one comes with each request
(:func:`actor_from_request`), each plugin has its own for work no user started
(:meth:`Platform.plugin_actor`, also handed to demo loaders, subscribers and jobs). The kernel
refuses an ``Actor`` it did not issue, or one changed since (:class:`ActorNotIssued`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, Forbidden

__all__ = [
    "LEVELS",
    "Actor",
    "ActorNotIssued",
    "NotAuthenticated",
    "UnitRef",
    "actor_from_request",
    "requires",
]

#: The org-unit levels, top down.
LEVELS = ("city", "district", "street", "committee")


class NotAuthenticated(ApiError):
    """No valid session or token came with the request."""

    status_code = 401
    code = "not_authenticated"


class ActorNotIssued(Forbidden):
    """An :class:`Actor` the kernel did not issue (made by hand, or copied with changes).

    Get actors from the kernel instead: :func:`actor_from_request` in a route, the ``actor``
    argument of ``load_demo_data`` and of subscriber and job handlers, or
    :meth:`Platform.plugin_actor` anywhere else.
    """

    code = "actor_not_issued"

    def __init__(self, actor: object) -> None:
        username = getattr(actor, "username", "?")
        super().__init__(
            f"操作者 {username} 不是平台签发的（Actor 须由平台提供，不能自行构造）",
        )


@dataclass(frozen=True)
class UnitRef:
    """An org unit as plugins see it.

    ``path`` is the unit's materialized path (``/1/17/230/``): a unit is inside another's subtree
    exactly when its path starts with the other's. ``parent_id`` is None for the city. Walk the
    tree with :meth:`Platform.unit_children`, :meth:`Platform.unit_committees` and
    :meth:`Platform.unit_ancestors`.
    """

    id: int
    code: str
    name: str
    level: str
    path: str
    closed: bool = False
    parent_id: int | None = None

    def contains(self, other: UnitRef) -> bool:
        """Whether ``other`` is this unit or lies below it."""
        return other.path.startswith(self.path)


@dataclass(frozen=True)
class Actor:
    """A user acting under one grant (a role on an org unit, covering its subtree).

    ``permissions`` are those of the role; ``unit`` is where the grant applies. ``via`` says how
    the request was authenticated (``session`` or ``token``).
    """

    user_id: int | None
    username: str
    display_name: str
    grant_id: int | None
    role: str | None
    unit: UnitRef | None
    permissions: frozenset[str] = field(default_factory=frozenset)
    via: str = "session"
    must_change_password: bool = False
    plugin: str | None = None

    @property
    def is_plugin(self) -> bool:
        """Whether this is a plugin's own actor rather than a user."""
        return self.plugin is not None

    def has(self, permission: str) -> bool:
        """Whether the actor's role includes ``permission`` (somewhere in its subtree)."""
        return permission in self.permissions and self.unit is not None


def actor_from_request(request: Request) -> Actor | None:
    """The authenticated actor of ``request``, or None for an anonymous request."""
    actor: Actor | None = request.scope.get("shequyun.actor")
    return actor


Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


def requires(permission: str | None = None) -> Callable[[Endpoint], Endpoint]:
    """Guard a route: 401 without a login, 403 (audited) without ``permission``.

    Use it on plugin endpoints::

        @requires("hello.post")
        async def post_message(request): ...

    With no permission it only demands a login. It checks the permission's presence in the
    actor's role; checks on a particular object (``platform.can``) remain the handler's job.
    An endpoint that names an ``actor`` parameter receives the actor it checked::

        @requires("hello.post")
        async def post_message(request, actor): ...
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError("requires() guards async endpoints")
        wants_actor = "actor" in inspect.signature(endpoint).parameters

        @functools.wraps(endpoint)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> Response:
            actor = actor_from_request(request)
            if actor is None:
                raise NotAuthenticated("请先登录")
            if permission is not None and not actor.has(permission):
                request.app.state.platform.audit_denial(request, actor, permission)
                raise Forbidden("您没有权限执行此操作", code="forbidden")
            if wants_actor:
                kwargs["actor"] = actor
            return await endpoint(request, *args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
