"""Every state-changing route of the API and the portal has a step in the audit trail.

A new POST, PUT, PATCH or DELETE route fails this test until a step in one of the trail tests
says what it leaves in the audit log and the history (which may be nothing, stated). The
kernel's tests load no installed plugin, so these are the kernel's routes; the walk would see a
plugin's too (``test_the_walk_sees_a_plugins_routes``). The first-party plugins walk their own
routes in their tests (``plugins/*/tests/test_audit_trail.py``, with ``shequyun_sdk.testing.trail``).
"""

from __future__ import annotations

from starlette.routing import Mount, Route

from . import (
    test_collection_trail,
    test_identity_trail,
    test_platform_trail,
    test_quality_trail,
    test_residents_trail,
)

WALKED = {
    *test_identity_trail.ROUTES,
    *test_identity_trail.ORG_ROUTES,
    *test_identity_trail.PLUGIN_ROUTES,
    *test_identity_trail.HOLDER_ROUTES,
    *test_residents_trail.ROUTES,
    *test_collection_trail.ROUTES,
    *test_platform_trail.ROUTES,
    *test_quality_trail.ROUTES,
}
READS = {"GET", "HEAD", "OPTIONS"}


def routes(items, prefix=""):
    """``"METHOD /path"`` of every route in ``items``, through mounts; a plugin's routes are
    mounted inside its guard (``shequyun.app.PluginGuard``), so look through it too."""
    for item in items:
        if isinstance(item, Mount):
            inner = getattr(item.app, "app", item.app)
            yield from routes(
                getattr(inner, "routes", None) or item.routes or [], prefix + item.path
            )
        elif isinstance(item, Route):
            for method in item.methods or ():
                yield f"{method} {prefix}{item.path}"


def test_every_state_changing_route_is_walked(shequyun_app):
    present = set(routes(shequyun_app.routes))
    changing = {r for r in present if r.split(" ")[0] not in READS}
    assert changing - WALKED == set(), "state-changing routes without a step in tests/audit_trail"
    # The reads of personal data the trail walks exist too.
    assert WALKED - present == set()
