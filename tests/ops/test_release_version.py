"""What an operator installs says which release it is.

Releases are named by the calendar (``2026.12.1``, docs/operations.md): the kernel and every
first-party plugin built from one checkout carry that name, so ``pip list``, ``shequyun
--version`` and ``shequyun plugins list`` tell what runs. They all said 0.1.0, whatever the
release. The SDK keeps its own semantic version, a contract with plugin authors (1.x); the
examples are samples of a district's own plugins, with versions of their own (the tutorial
shows ``hello`` as it stands).
"""

from __future__ import annotations

import importlib
import re
import subprocess
import tomllib

import shequyun_sdk
from packaging.version import Version

from shequyun.release import VERSION

from ..conftest import REPO, SHEQUYUN

#: Calendar versions: year, month, the release's number within the month.
CALENDAR = re.compile(r"20\d\d\.(1[0-2]|[1-9])\.\d+")


def project(directory: str) -> dict[str, str]:
    with (REPO / directory / "pyproject.toml").open("rb") as file:
        return dict(tomllib.load(file)["project"])


FIRST_PARTY = sorted(
    str(path.parent.relative_to(REPO)) for path in REPO.glob("plugins/*/pyproject.toml")
)


def test_the_kernel_and_every_first_party_plugin_carry_the_release_s_name():
    release = project("kernel")["version"]
    assert CALENDAR.fullmatch(release), release
    assert str(Version(release)) == release  # pip shows it as written
    for directory in FIRST_PARTY:
        meta = project(directory)
        assert meta["version"] == release, directory
        package = meta["name"].replace("-", "_")
        manifest = importlib.import_module(package).MANIFEST
        assert manifest["version"] == release, f"{package}.MANIFEST"


def test_the_sdk_keeps_its_own_semantic_version():
    sdk = project("sdk")["version"]
    assert sdk == shequyun_sdk.__version__
    assert Version(sdk).major == 1
    changelog = (REPO / "sdk" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {sdk}\n" in changelog


def test_the_installed_kernel_and_its_own_plugins_say_the_release(shequyun_kernel):
    assert project("kernel")["version"] == VERSION
    builtin = [r for r in shequyun_kernel.host.records.values() if r.builtin]
    assert builtin and {r.version for r in builtin} == {VERSION}


def test_shequyun_version_names_the_release_and_the_sdk():
    said = subprocess.run([SHEQUYUN, "--version"], capture_output=True, text=True, check=True)
    assert said.stdout == f"shequyun {VERSION} (SDK {shequyun_sdk.__version__})\n"
