"""``shequyun plugin new NAME``: write a complete plugin distribution that passes its tests.

The files come from ``template/``; ``__name__`` in paths and ``{{name}}`` / ``{{Title}}`` in
contents are replaced. ``examples/hello`` in the repository is exactly this output for ``hello``
(a test keeps them equal), so the tutorial, the example and the scaffold cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ScaffoldError", "render_scaffold", "scaffold_plugin"]

TEMPLATE = Path(__file__).parent / "template"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ScaffoldError(ValueError):
    pass


def render_scaffold(name: str) -> dict[str, str]:
    """The files of a new plugin ``name``, as ``{relative path: content}``."""
    if not NAME_RE.match(name) or name in {"kernel", "health", "home"}:
        raise ScaffoldError(
            f"{name!r} is not a usable plugin name: use 2-40 lowercase letters, digits or _,"
            " starting with a letter, not a kernel plugin's name"
        )
    files = {}
    for path in sorted(TEMPLATE.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = str(path.relative_to(TEMPLATE)).replace("__name__", name)
        if relative.endswith(".tmpl"):
            relative = relative[: -len(".tmpl")]
        content = path.read_text(encoding="utf-8")
        files[relative] = content.replace("{{name}}", name).replace(
            "{{dist}}", name.replace("_", "-")
        )
    return files


def scaffold_plugin(name: str, directory: Path | None = None) -> Path:
    """Write the plugin ``name`` into ``directory`` (default ``./shequyun-<name>``)."""
    files = render_scaffold(name)
    target = directory or Path(f"shequyun-{name.replace('_', '-')}")
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} already exists and is not empty")
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return target
