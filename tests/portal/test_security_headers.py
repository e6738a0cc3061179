"""Headers: portal pages cannot be framed and run only the platform's own scripts; personal
data is never kept in a browser's or a proxy's cache."""

from __future__ import annotations

import re
from pathlib import Path

from shequyun.headers import CONTENT_SECURITY_POLICY

from ..residents._data import resident

REPO = Path(__file__).resolve().parents[2]


def _registered(client, cadre) -> int:
    created = client.post("/api/v1/residents", json=resident(), headers=cadre.auth)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_portal_pages_carry_a_policy_and_refuse_to_be_framed(shequyun_client, shequyun_actors):
    portal = shequyun_actors.street_admin().portal()
    for page in (shequyun_client.get("/login"), portal.get("/admin/users"), portal.get("/nope")):
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"


def test_personal_data_is_never_cached(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    resident_id = _registered(shequyun_client, cadre)
    shown = shequyun_client.post(
        f"/api/v1/residents/{resident_id}/reveal",
        json={"fields": ["id_number"], "reason": "上门核实"},
        headers=cadre.auth,
    )
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    record = shequyun_client.get(f"/api/v1/residents/{resident_id}", headers=cadre.auth)
    assert record.headers["cache-control"] == "no-store"
    detail = cadre.portal().get(f"/residents/{resident_id}")
    assert detail.status_code == 200 and detail.headers["cache-control"] == "no-store"
    listed = cadre.portal().get("/residents")
    assert listed.headers["cache-control"] == "no-store"


def test_static_files_stay_cacheable_and_json_is_not_given_a_page_policy(shequyun_client):
    css = shequyun_client.get("/static/kernel/shell.css")
    assert css.status_code == 200 and "cache-control" not in css.headers
    assert css.headers["x-content-type-options"] == "nosniff"
    health = shequyun_client.get("/healthz")
    assert "content-security-policy" not in health.headers


def test_the_icon_browsers_ask_for_is_there(shequyun_client):
    home = shequyun_client.get("/").text
    assert '<link rel="icon" href="/static/kernel/favicon.svg" type="image/svg+xml">' in home
    assert shequyun_client.get("/static/kernel/favicon.svg").status_code == 200
    asked = shequyun_client.get("/favicon.ico")  # what a browser asks for without the link
    assert asked.status_code == 200
    assert asked.headers["content-type"] == "image/svg+xml"
    assert asked.text.startswith("<svg") and asked.headers["cache-control"].startswith("public")


def test_no_template_needs_what_the_policy_forbids():
    """Inline scripts, event-handler attributes and style attributes would be blocked by
    ``script-src 'self'`` and ``style-src 'self'``: the pages must not rely on them."""
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    forbidden = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style[\s>]|javascript:", re.I
    )
    roots = [REPO / "kernel" / "src", REPO / "plugins", REPO / "examples", REPO / "sdk" / "src"]
    found = [
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for root in roots
        for path in root.rglob("*.html")
        if "node_modules" not in path.parts
        for match in forbidden.finditer(path.read_text("utf-8"))
    ]
    assert found == []
