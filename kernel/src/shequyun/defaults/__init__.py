"""The kernel's own features, written as ordinary plugins and loaded before any other.

Each module here has a MANIFEST and hook implementations like any plugin; the only privilege
they have is their mount point (the site root and ``/api/v1``).
"""

from __future__ import annotations

from . import (
    apps,
    attachments,
    calendar,
    collection,
    core,
    health,
    home,
    identity,
    openapi_docs,
    portal_admin,
    portal_collection,
    portal_residents,
    residents,
)

DEFAULT_PLUGINS = (
    core,
    identity,
    residents,
    attachments,
    calendar,
    collection,
    portal_residents,
    portal_collection,
    portal_admin,
    openapi_docs,
    health,
    home,
    apps,
)

__all__ = ["DEFAULT_PLUGINS"]
