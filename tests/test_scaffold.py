"""``shequyun plugin new`` writes a plugin that installs, passes its own tests and appears."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from shequyun.scaffold import ScaffoldError, render_scaffold

from .conftest import REPO, SHEQUYUN, subprocess_env


def test_examples_hello_is_exactly_the_scaffold_output():
    rendered = render_scaffold("hello")
    example = REPO / "examples" / "hello"
    on_disk = {
        str(p.relative_to(example)): p.read_text(encoding="utf-8")
        for p in example.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p)
    }
    assert on_disk == rendered


@pytest.mark.parametrize("name", ["Hello", "x", "has-dash", "kernel", "1abc"])
def test_unusable_names_are_refused(name):
    with pytest.raises(ScaffoldError, match="not a usable plugin name"):
        render_scaffold(name)


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "foo").mkdir()
    (tmp_path / "foo" / "keep.txt").write_text("mine")
    result = subprocess.run(
        [SHEQUYUN, "plugin", "new", "foo", "--directory", str(tmp_path / "foo")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "already exists and is not empty" in result.stderr


@pytest.mark.slow
def test_a_new_plugin_installs_passes_its_tests_and_serves_its_page(tmp_path):
    created = subprocess.run(
        [SHEQUYUN, "plugin", "new", "foo"], cwd=tmp_path, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    # The hint installs the test extra: the plugin's tests need the SDK's harness.
    assert "next: pip install -e 'shequyun-foo[test]' && pytest shequyun-foo" in created.stdout
    source = tmp_path / "shequyun-foo"
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    env = subprocess_env(tmp_path, site)

    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(source / "tests")],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
    )
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
    assert "8 passed" in own_tests.stdout

    listed = subprocess.run(
        [SHEQUYUN, "plugins", "list", "--json"], env=env, capture_output=True, text=True
    )
    foo = next(p for p in json.loads(listed.stdout) if p["name"] == "foo")
    assert (foo["state"], foo["origin"]) == ("active", "entry point shequyun_foo (shequyun-foo)")

    subprocess.run([SHEQUYUN, "db", "upgrade"], env=env, check=True, capture_output=True)
    page = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
            from starlette.testclient import TestClient
            from shequyun.app import create_app
            with TestClient(create_app()) as client:
                response = client.get("/plugins/foo/")
                print(response.status_code, "留言板" in response.text)
            """
            ),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert page.stdout.split() == ["200", "True"], page.stderr
