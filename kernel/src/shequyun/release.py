"""The platform's release: the version of the ``shequyun`` distribution that is installed.

Releases are named by the calendar, ``YYYY.MM.N`` (``2026.12.1``, the first of December 2026),
and the kernel and every first-party plugin built from one checkout carry the same name, so
``pip list``, ``shequyun --version`` and ``shequyun plugins list`` say which release runs. The
SDK keeps its own semantic version (``shequyun_sdk.__version__``, a contract with plugin
authors). The number is written once, in ``kernel/pyproject.toml``; this reads it back from the
installed distribution.
"""

from __future__ import annotations

import importlib.metadata

__all__ = ["VERSION"]


def _installed() -> str:
    try:
        return importlib.metadata.version("shequyun")
    except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


#: The installed release, e.g. ``2026.12.1``.
VERSION = _installed()
