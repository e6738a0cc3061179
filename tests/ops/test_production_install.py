"""The production install of docs/operations.md: wheels of the chosen distributions installed
into a fresh virtual environment, without the development examples (the public 留言板 of
``hello``, the console SMS adapter that must never run in production)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ..conftest import subprocess_env

REPO = Path(__file__).resolve().parents[2]
#: What docs/operations.md installs: the SDK, the kernel and the first-party plugins.
CHOSEN = ["sdk", "kernel", "plugins/advisors", "plugins/governance", "plugins/interaction"]
EXAMPLES = {"hello", "sms_console", "garbage", "remote_node"}


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_wheels_of_the_chosen_distributions_install_without_the_examples(tmp_path):
    dist, venv, sources = tmp_path / "dist", tmp_path / "venv", tmp_path / "src"
    # Built from a copy: setuptools leaves build/lib/ beside the sources it builds, and in the
    # checkout those copies of every module were collected by later runs' source scans.
    for folder in CHOSEN:
        shutil.copytree(
            REPO / folder,
            sources / folder,
            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
        )
    # ./sdk, not sdk: a bare name is a requirement, and pip would fetch "sdk" from the index.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(dist), *(f"./{d}" for d in CHOSEN)],
        cwd=sources, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == len(CHOSEN)
    installed = run(venv / "bin" / "pip", "install", "-q", *wheels, "psycopg[binary]")
    assert installed.returncode == 0, installed.stderr

    env = subprocess_env(tmp_path)
    shequyun = venv / "bin" / "shequyun"
    upgraded = run(shequyun, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = run(shequyun, "plugins", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    states = {p["name"]: p["state"] for p in json.loads(listed.stdout)}
    assert {states[name] for name in ("advisors", "governance", "interaction")} == {"active"}
    assert not EXAMPLES & states.keys()
    assert "sms_console" not in upgraded.stderr + listed.stderr
    assert run(shequyun, "db", "status", env=env).returncode == 0

    # What runs says which release it is: the kernel's version on everything built with it,
    # the SDK's own (docs/operations.md, "Production install").
    release = tomllib.loads((REPO / "kernel" / "pyproject.toml").read_text())["project"]["version"]
    sdk = tomllib.loads((REPO / "sdk" / "pyproject.toml").read_text())["project"]["version"]
    pip_list = json.loads(run(venv / "bin" / "pip", "list", "--format=json").stdout)
    assert {d["name"]: d["version"] for d in pip_list if d["name"].startswith("shequyun")} == {
        "shequyun": release,
        "shequyun-advisors": release,
        "shequyun-governance": release,
        "shequyun-interaction": release,
        "shequyun-sdk": sdk,
    }
    assert run(shequyun, "--version").stdout == f"shequyun {release} (SDK {sdk})\n"
    assert {p["version"] for p in json.loads(listed.stdout)} == {release}

    # The guide's "First start": the roster (a dry run, then --apply), then the first admin.
    roster = tmp_path / "名册.csv"
    roster.write_text(
        "编码,名称,层级,上级编码\n310000000000,上海市,市,\n310104000000,徐汇区,区,310000000000\n"
        "310104001000,天平路街道,街道,310104000000\n"
        "310104001001,建国西路居委会,居委会,310104001000\n",
        encoding="utf-8",
    )
    checked = run(shequyun, "org", "import", roster, env=env)
    assert checked.returncode == 0 and "未写入任何数据" in checked.stdout, checked.stderr
    applied = run(shequyun, "org", "import", roster, "--apply", env=env)
    assert applied.returncode == 0 and "已全部导入" in applied.stdout, applied.stderr
    create = ["users", "create-admin", "--username", "admin", "--display-name", "王主任"]
    admin = subprocess.run(
        [str(shequyun), *create, "--password-stdin"],
        input="Xuhui-Chief-2026!x\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert admin.returncode == 0, admin.stderr
    assert admin.stdout.strip() == "已创建平台管理员 admin（王主任），授权单位：上海市"
