"""The generated reference pages match the code that declares what they describe.

``docs/plugins/events.md`` (every event type with its schema and an example) and
``docs/plugins/roles.md`` (built-in roles and permissions) are written by
``python -m shequyun.reference_docs``; when a declaration changes, run it and commit the pages.
"""

from __future__ import annotations

import pytest

from shequyun.event_catalogue import EventCatalogue
from shequyun.identity.permissions import PermissionRegistry
from shequyun.reference_docs import events_page, load_reference_host, roles_page

from .conftest import REPO

DOCS = REPO / "docs" / "plugins"
RUN = "run `.venv/bin/python -m shequyun.reference_docs` and commit the pages"


@pytest.fixture(scope="module")
def host():
    return load_reference_host()


def test_events_md_is_the_generators_output(host):
    page = events_page(host, EventCatalogue.collect(host))
    assert (DOCS / "events.md").read_text(encoding="utf-8") == page, RUN


def test_roles_md_is_the_generators_output(host):
    page = roles_page(host, PermissionRegistry.collect(host))
    assert (DOCS / "roles.md").read_text(encoding="utf-8") == page, RUN


def test_the_catalogue_covers_the_kernel_and_each_first_party_plugin(host):
    catalogue = EventCatalogue.collect(host)
    owners = set(catalogue.owners.values())
    assert {"residents", "collection", "kernel", "interaction", "governance", "advisors"} <= owners
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    for name in ("collection.submission.changed", "resident.moved", "case.updated"):
        assert f"### {name}\n" in text


def test_every_event_about_a_unit_names_it_by_code_and_id(host):
    """The convention: never a bare internal unit id (subscribers and external apps need the
    code), never a code without the id beside it."""
    catalogue = EventCatalogue.collect(host)
    for name, event in catalogue.types.items():
        fields = set(event.schema.get("properties", {}))
        for field in fields:
            if field.endswith("unit_id"):
                assert field.replace("unit_id", "unit_code") in fields, f"{name}: {field}"
            if field.endswith("unit_code") and not name.startswith("case."):
                assert field.replace("unit_code", "unit_id") in fields, f"{name}: {field}"
