"""Plugins' command-line commands (the ``register_commands`` hook): ``shequyun <plugin> …``.

The ``shequyun`` group asks for plugin commands only when a name it does not know is invoked
(or when it lists its commands), so the kernel's own commands never pay for loading plugins.
A plugin's commands are grouped under its name: ``shequyun advisors test``.
"""

from __future__ import annotations

import logging
from typing import Any

import click

__all__ = ["PluginCommandGroup", "plugin_groups"]

log = logging.getLogger("shequyun.cli")


def plugin_groups() -> dict[str, click.Group]:
    """One click group per active plugin that registers commands, by plugin name."""
    from .kernel import Kernel
    from .settings import SettingsError, load_settings

    try:
        kernel = Kernel(load_settings())
    except SettingsError:
        return {}
    try:
        groups: dict[str, click.Group] = {}
        for record, commands in kernel.host.collect("register_commands", fail_plugin=False):
            valid = [c for c in commands or () if isinstance(c, click.Command)]
            if len(valid) != len(list(commands or ())):
                log.error("plugin %s: register_commands must return click commands", record.name)
            if valid:
                manifest = record.context.manifest if record.context is not None else {}
                title = manifest.get("title", {})
                help_text = title.get("zh") if isinstance(title, dict) else None
                groups[record.name] = click.Group(
                    record.name, commands={c.name or "": c for c in valid}, help=help_text
                )
        return groups
    finally:
        kernel.engine.dispose()


class PluginCommandGroup(click.Group):
    """The ``shequyun`` group: its own commands first, then the plugins' groups."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        return plugin_groups().get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        own: Any = super().list_commands(ctx)
        return sorted(set(own) | set(plugin_groups()))
