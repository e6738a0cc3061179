"""Who is acting, and where: actors, org-unit references and the route guard.

The kernel authenticates every request (portal session or ``Authorization: Bearer`` token) and
attaches an :class:`Actor`. Checks are made with :meth:`Platform.can` for one object and
:meth:`Platform.scope_filter` for lists; both derive from the same grant, so a list never shows
what a check would refuse.
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


@dataclass(frozen=True)
class UnitRef:
    """An org unit as plugins see it.

    ``path`` is the unit's materialized path (``/1/17/230/``): a unit is inside another's subtree
    exactly when its path starts with the other's.
    """

    id: int
    code: str
    name: str
    level: str
    path: str
    closed: bool = False

    def contains(self, other: UnitRef) -> bool:
        """Whether ``other`` is this unit or lies below it."""
        return other.path.startswith(self.path)


@dataclass(frozen=True)
class Actor:
    """A user acting under one grant (a role on an org unit, covering its subtree).

    ``permissions`` are those of the role; ``unit`` is where the grant applies. ``via`` says how
    the request was authenticated (``session`` or ``token``).
    """

    user_id: int
    username: str
    display_name: str
    grant_id: int | None
    role: str | None
    unit: UnitRef | None
    permissions: frozenset[str] = field(default_factory=frozenset)
    via: str = "session"
    must_change_password: bool = False

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
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError("requires() guards async endpoints")

        @functools.wraps(endpoint)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> Response:
            actor = actor_from_request(request)
            if actor is None:
                raise NotAuthenticated("请先登录")
            if permission is not None and not actor.has(permission):
                request.app.state.platform.audit_denial(request, actor, permission)
                raise Forbidden("您没有权限执行此操作", code="forbidden")
            return await endpoint(request, *args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
