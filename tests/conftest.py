"""Shared fixtures for the kernel's own tests. The SDK harness provides the rest."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def shequyun_discover() -> bool:
    """The kernel's tests load only the plugins they name, unless a test says otherwise."""
    return False


MakeDist = Callable[..., Path]


@pytest.fixture
def fake_dists(tmp_path: Path) -> tuple[Path, MakeDist]:
    """A folder of fake installed distributions, each registering a ``shequyun.plugins`` entry.

    ``make(name, source)`` writes package ``fake_<name>`` with ``source`` as its
    ``__init__.py`` and a dist-info whose entry point ``name`` points at it, exactly like a
    wheel installed with pip. Put the folder on ``sys.path`` (or ``PYTHONPATH``) to install.
    """
    root = tmp_path / "site"
    root.mkdir()

    def make(name: str, source: str) -> Path:
        package = root / f"fake_{name}"
        package.mkdir()
        (package / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = root / f"fake_{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: fake-{name}\nVersion: 0.1\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[shequyun.plugins]\n{name} = fake_{name}\n", encoding="utf-8"
        )
        return package

    return root, make


def manifest_source(name: str, sdk: str = ">=0.1,<0.2") -> str:
    """Python source of a valid MANIFEST for a test plugin called ``name``."""
    return textwrap.dedent(
        f"""
        MANIFEST = {{
            "name": "{name}",
            "version": "0.1",
            "title": {{"zh": "测试插件", "en": "Test plugin"}},
            "description": {{"zh": "测试用", "en": "For tests"}},
            "sdk": "{sdk}",
        }}
        """
    )


def subprocess_env(tmp_path: Path, *extra_paths: Path, **env: str) -> dict[str, str]:
    """Environment for running ``shequyun`` in a subprocess on its own SQLite database."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("SHEQUYUN_")}
    result["SHEQUYUN_DATA_DIR"] = str(tmp_path / "var")
    if extra_paths:
        result["PYTHONPATH"] = os.pathsep.join(str(p) for p in extra_paths)
    result.update(env)
    return result


SHEQUYUN = str(Path(sys.executable).parent / "shequyun")
