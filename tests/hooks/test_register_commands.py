"""register_commands: a plugin's commands run as ``shequyun <plugin> <command>``."""

from __future__ import annotations

import click
from click.testing import CliRunner
from shequyun_sdk import hookimpl

import shequyun.plugin_commands as plugin_commands
from shequyun.cli import main

from ._plugins import manifest


@click.command()
@click.option("--name", default="世界")
def greet(name):
    """Greet someone."""
    click.echo(f"你好，{name}")


class Greeter:
    MANIFEST = manifest("greeter", "问候")

    @hookimpl
    def register_commands(self):
        return [greet, "not a command"]


def test_plugin_commands_are_grouped_under_the_plugin_name(monkeypatch, tmp_path, caplog):
    from shequyun.kernel import Kernel

    def kernel_with_greeter(settings):
        return Kernel(settings, plugins=[Greeter()], discover=False)

    monkeypatch.setattr("shequyun.kernel.Kernel", kernel_with_greeter)
    monkeypatch.setenv("SHEQUYUN_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(main, ["greeter", "greet", "--name", "王秀英"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "你好，王秀英"
    assert "greeter" in runner.invoke(main, ["--help"]).output
    assert "must return click commands" in caplog.text
    assert runner.invoke(main, ["nosuchplugin"]).exit_code != 0
    assert plugin_commands.plugin_groups  # the machinery the group uses
