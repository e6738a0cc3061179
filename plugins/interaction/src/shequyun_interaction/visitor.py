"""The resident signed in to the portal, as the portal's header shows them.

Residents sign in with the plugin's own cookie, not the staff session, so the kernel's shell
would otherwise offer them the staff login. ``visitor_from_request`` names them instead, with
links to their home page (or to verification) and to the plugin's logout.
"""

from __future__ import annotations

from shequyun_sdk import PluginContext, Visitor, platform_from_request
from starlette.requests import Request

from . import accounts
from .core import Viewer
from .web import RESIDENT_COOKIE, VIEWER_SCOPE_KEY

__all__ = ["visitor_for"]


def visitor_for(plugin: PluginContext, request: Request) -> Visitor | None:
    """The signed-in resident of ``request``, or None when the resident cookie is absent or
    stale. Reuses the viewer of the plugin's own pages; elsewhere one short lookup."""
    token = request.cookies.get(RESIDENT_COOKIE)
    if not token:
        return None
    platform = platform_from_request(request)
    viewer = request.scope.get(VIEWER_SCOPE_KEY)
    if not isinstance(viewer, Viewer):
        with platform.session() as session:
            account = accounts.account_for_token(session, token, "cookie")
            viewer = accounts.viewer_for(platform, session, account)
    if viewer.account is None:
        return None
    logout = plugin.url("/logout")
    # 大字模式 and the like follow the account, not the browser
    key = f"account:{viewer.account.id}"
    if viewer.resident is not None:
        return Visitor(
            name=viewer.resident.name,
            href=plugin.url("/"),
            logout_href=logout,
            account_key=key,
            resident_id=viewer.resident.id,
            committee=viewer.resident.committee,
        )
    _ = platform.translator(request, plugin)
    name = _("{phone}（未核验）", phone=viewer.account.phone_masked)
    return Visitor(name=name, href=plugin.url("/verify"), logout_href=logout, account_key=key)
