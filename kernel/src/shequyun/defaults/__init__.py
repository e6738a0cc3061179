"""The kernel's own features, written as ordinary plugins and loaded before any other.

Each feature's plugin module lives in the feature's folder (``residents/plugin.py`` declares
the ``residents`` plugin, ``residents/pages_plugin.py`` its portal pages); the modules here are
the kernel-wide ones (``core``, ``health``, ``home``, ``openapi_docs``). Each has a MANIFEST and
hook implementations like any plugin; the only privilege they have is their mount point (the
site root and ``/api/v1``). Nothing here imports :mod:`shequyun.kernel`, which imports this.
"""

from __future__ import annotations

from ..apps import plugin as apps
from ..attachments import plugin as attachments
from ..calendar import plugin as calendar
from ..collection import pages_plugin as portal_collection
from ..collection import plugin as collection
from ..identity import admin_plugin as portal_admin
from ..identity import plugin as identity
from ..indicators import plugin as indicators
from ..notices import plugin as notices
from ..quality import plugin as quality
from ..residents import pages_plugin as portal_residents
from ..residents import plugin as residents
from . import core, health, home, openapi_docs

DEFAULT_PLUGINS = (
    core,
    identity,
    residents,
    attachments,
    calendar,
    collection,
    portal_residents,
    portal_collection,
    notices,
    portal_admin,
    indicators,
    quality,
    openapi_docs,
    health,
    home,
    apps,
)

__all__ = ["DEFAULT_PLUGINS"]
