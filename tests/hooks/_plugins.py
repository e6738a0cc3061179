"""What the hook tests share: a manifest factory, the plugin listing, the portal's navigation,
and the files of a small 社区公告 (notice board) plugin: its table, migrations, templates and
static files, laid out as they would be in a plugin's package.

Each test defines the plugin it needs as a small class next to the test, using these pieces.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Field, SQLModel

NOTICEBOARD = Path(__file__).parent / "noticeboard"
MIGRATIONS = NOTICEBOARD / "migrations"
TEMPLATES = NOTICEBOARD / "templates"
STATIC = NOTICEBOARD / "static"


def manifest(name: str, title: str, **extra: Any) -> dict[str, Any]:
    """A valid MANIFEST for a test plugin; ``extra`` adds or replaces keys."""
    return {
        "name": name,
        "version": "0.1.0",
        "title": {"zh": title},
        "description": {"zh": f"{title}（测试插件）"},
        "sdk": ">=0.1,<0.2",
        **extra,
    }


def plugin_listing(client: Any) -> dict[str, dict[str, Any]]:
    """Every plugin's state and failure reason, as an administrator sees them."""
    records = client.app.state.kernel.host.records
    return {
        name: {"state": r.state.value, "reason": r.reason, "origin": r.origin}
        for name, r in records.items()
    }


def nav_links(html: str) -> list[tuple[str, str]]:
    """The portal navigation of a rendered page as ``[(label, href), ...]`` in page order."""
    nav = re.search(r'<nav aria-label="主导航"[^>]*>(.*?)</nav>', html, re.S)
    assert nav is not None, "the page has no portal navigation"
    links = re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', nav[1])
    return [(label, href) for href, label in links]


def _now() -> datetime:
    return datetime.now(UTC)


class Notice(SQLModel, table=True):
    """A notice on a committee's board; the table is created by ``MIGRATIONS``."""

    __tablename__ = "noticeboard_notice"

    id: int | None = Field(default=None, primary_key=True)
    committee: str = Field(max_length=60)
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)
