"""Walk a plugin's state-changing routes and check the audit entries each one leaves.

A plugin's writes are audited by its services (``Platform.audit``), whichever door — the API or
a portal page — called them. A test that performs every POST, PUT, PATCH and DELETE route of the
plugin and says, per route, which entries it must leave (or that it must leave none) keeps that
true as the plugin grows::

    from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes

    ROUTES = ["POST /api/v1/plugins/hello/messages"]
    DETAIL = {"hello.message_posted": [{"text"}]}

    def test_every_route_is_walked(shequyun_app):
        assert state_changing_routes(shequyun_app, "hello") == set(ROUTES)

    def test_posting_is_audited(shequyun_client, shequyun_actors):
        cadre = shequyun_actors.cadre()
        trail = AuditTrail(shequyun_client, shequyun_actors.platform_admin().auth,
                           manifest=MANIFEST, detail=DETAIL)
        trail.step("POST /api/v1/plugins/hello/messages",
                   shequyun_client.post("/api/v1/plugins/hello/messages",
                                        json={"text": "你好"}, headers=cadre.auth),
                   status=201, audit=[("hello.message_posted", "hello_message")])
        trail.check_walked(ROUTES)

The log is read the way an administrator reads it, through ``GET /api/v1/audit``, so the test
sees exactly what the platform kept. See ``docs/plugins/testing.md``.

New in SDK 1.2.0 (``sdk/CHANGELOG.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["AuditTrail", "Expected", "plugin_routes", "state_changing_routes"]

#: Methods that read: every other method of a route changes state.
READS = frozenset({"GET", "HEAD", "OPTIONS"})

#: One expected entry: its action and target type, and optionally detail values it must hold,
#: e.g. ``("hello.message_deleted", "hello_message", {"reason": "重复"})``.
Expected = tuple[str, str | None] | tuple[str, str | None, Mapping[str, Any]]


def _walk(items: Iterable[Any], prefix: str = "") -> Iterator[str]:
    for item in items:
        path = getattr(item, "path", "")
        methods = getattr(item, "methods", None)
        inner = getattr(item, "app", None)
        if methods is not None:
            for method in methods:
                yield f"{method} {prefix}{path}"
        elif inner is not None:
            # A mount: a plugin's routes sit inside the platform's guard around its router.
            router = getattr(inner, "app", inner)
            routes = getattr(router, "routes", None) or getattr(item, "routes", None) or []
            yield from _walk(routes, prefix + path)


def plugin_routes(app: Any, plugin: str) -> set[str]:
    """``"METHOD /path"`` of every route plugin ``plugin`` mounts in ``app``: its API routes
    under ``/api/v1/plugins/<plugin>`` and its pages under ``/plugins/<plugin>``, paths as
    declared (``"POST /plugins/hello/messages/{message_id:int}/delete"``)."""
    mounts = (f"/api/v1/plugins/{plugin}/", f"/plugins/{plugin}/")
    return {
        route
        for route in _walk(getattr(app, "routes", []))
        if route.split(" ", 1)[1].startswith(mounts)
    }


def state_changing_routes(app: Any, plugin: str) -> set[str]:
    """The POST, PUT, PATCH and DELETE routes among :func:`plugin_routes`: the ones an audit
    trail test must walk."""
    return {r for r in plugin_routes(app, plugin) if r.split(" ", 1)[0] not in READS}


class AuditTrail:
    """Checks, step by step, the audit entries each request left.

    ``client`` is the test's HTTP client and ``reader`` the headers of someone who may read the
    whole audit log (``shequyun_actors.platform_admin().auth``). ``detail`` gives, per audit
    action, the detail key sets its service writes (more than one where the service has more
    than one way); every entry a step meets must match one of them, so an action a plugin
    starts writing, or a key a door adds or drops, fails until ``detail`` says so. With
    ``manifest``, every action of the plugin's own namespace must also be declared in its
    ``audit_actions`` (the audit log names it from there). Every entry must name the staff
    member who acted, except the actions in ``unattributed``: those a resident's own step or a
    scheduled job writes, with no staff actor.
    """

    __test__ = False  # not a test class, whatever pytest's collection rules say

    def __init__(
        self,
        client: Any,
        reader: Mapping[str, str],
        *,
        detail: Mapping[str, Iterable[Iterable[str]]],
        manifest: Mapping[str, Any] | None = None,
        unattributed: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.reader = dict(reader)
        self.detail = {
            action: [frozenset(keys) for keys in shapes] for action, shapes in detail.items()
        }
        self.manifest = manifest
        self.unattributed = frozenset(unattributed)
        #: The routes walked so far, as given to :meth:`step`.
        self.walked: set[str] = set()
        self.last = 0
        self.mark()

    def mark(self) -> None:
        """Forget the entries written so far: the next step sees only newer ones."""
        newest = self._page({"limit": "1"})["items"]
        self.last = newest[0]["id"] if newest else 0

    def _page(self, params: dict[str, str]) -> dict[str, Any]:
        answer = self.client.get("/api/v1/audit", params=params, headers=self.reader)
        assert answer.status_code == 200, f"reading the audit log: {answer.text}"
        return answer.json()  # type: ignore[no-any-return]

    def entries(self) -> list[dict[str, Any]]:
        """The entries written since the last mark, oldest first, as the API shows them."""
        found: list[dict[str, Any]] = []
        params = {"limit": "500"}
        while True:
            page = self._page(params)
            newer = [e for e in page["items"] if e["id"] > self.last]
            found.extend(newer)
            if len(newer) < len(page["items"]) or not page["next_cursor"]:
                return sorted(found, key=lambda e: e["id"])
            params = {"limit": "500", "cursor": page["next_cursor"]}

    def step(
        self,
        route: str,
        response: Any,
        *,
        status: int | Iterable[int] = 200,
        audit: list[Expected],
    ) -> Any:
        """Check that ``route`` (``"POST /api/v1/plugins/hello/messages"``) answered ``status``
        and left exactly the entries ``audit`` (in order; ``[]`` says it leaves none), then
        mark. Returns ``response``."""
        allowed = {status} if isinstance(status, int) else set(status)
        assert response.status_code in allowed, f"{route}: {response.status_code} {response.text}"
        written = self.entries()
        got = [(e["action"], e["target_type"]) for e in written]
        assert got == [(e[0], e[1]) for e in audit], f"{route} wrote {got}"
        for entry, expected in zip(written, audit, strict=True):
            values: Mapping[str, Any] = expected[2] if len(expected) > 2 else {}  # type: ignore[misc]
            self.check_entry(route, entry, values)
        self.walked.add(route)
        self.mark()
        return response

    def check_entry(self, route: str, entry: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """``entry`` names who acted, is declared, and has the detail keys of its action with
        ``values`` among them."""
        action = entry["action"]
        assert (
            entry["actor_user_id"] is not None
            or entry["actor_username"]
            or action in self.unattributed
        ), f"{route}: {action} does not say who acted"
        if self.manifest is not None and action.startswith(self.manifest["name"] + "."):
            declared = self.manifest.get("audit_actions", {})
            assert action in declared, f"{route}: declare {action} in MANIFEST['audit_actions']"
        shapes = self.detail.get(action)
        assert shapes is not None, f"{route}: declare the detail keys of {action}"
        keys = frozenset(entry["detail"])
        assert keys in shapes, f"{route}: {action} detail {sorted(keys)}"
        wrong = {
            k: entry["detail"].get(k) for k, v in values.items() if entry["detail"].get(k) != v
        }
        assert not wrong, f"{route}: {action} detail {wrong}, expected {dict(values)}"

    def check_walked(self, routes: Iterable[str]) -> None:
        """Every route in ``routes`` was walked by a step, and no other."""
        assert set(routes) == self.walked, sorted(set(routes) ^ self.walked)
