"""``shequyun users create-admin`` and ``shequyun users import``, run in a subprocess on the
test's database (SQLite, or PostgreSQL when the suite runs there)."""

from __future__ import annotations

import csv
import stat
import subprocess

import pytest
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry, Grant, OrgUnit, User
from shequyun.identity.passwords import verify_password

from ..conftest import SHEQUYUN, subprocess_env

PASSWORD = "Chengshi-guanli-1"
WEIFANG, WEIFANG_1, MEIYUAN = "310115004000", "310115004001", "310115005001"


@pytest.fixture
def cli(tmp_path, shequyun_kernel):
    """Run ``shequyun`` on the test kernel's database, with the kernel's plugins only (like
    the test kernel: an installed example plugin would add migrations it does not know)."""
    env = subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="",
    )

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHEQUYUN, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    return run


def users_named(kernel, username):
    with Session(kernel.engine) as session:
        return session.exec(select(User).where(User.username == username)).all()


def create_admin(cli, username="chief", password=PASSWORD):
    return cli(
        "users",
        "create-admin",
        "--username",
        username,
        "--display-name",
        "王主任",
        "--password-stdin",
        stdin=password + "\n",
    )


def test_create_admin_needs_the_org_tree_first(cli, shequyun_kernel):
    upgraded = cli("db", "upgrade")  # the harness migrated it already, as a deployment would
    assert upgraded.returncode == 0 and "already current" in upgraded.stdout
    result = create_admin(cli)
    assert result.returncode == 1
    # A production operator is sent to the roster import (which writes only with --apply),
    # never to the demo without a warning: it adds accounts whose password is in the README.
    assert "`shequyun org import 名册文件 --apply`" in result.stderr
    assert "docs/api/org-units.md" in result.stderr
    assert "`shequyun demo --no-serve` 只用于试用" in result.stderr
    assert "切勿在生产数据库上运行" in result.stderr
    assert users_named(shequyun_kernel, "chief") == []


def test_create_admin_makes_a_platform_admin_on_the_city_who_can_log_in(
    cli, shequyun_kernel, shequyun_units, shequyun_client
):
    result = create_admin(cli)
    assert result.returncode == 0, result.stderr
    assert "chief" in result.stdout and "上海市" in result.stdout
    [user] = users_named(shequyun_kernel, "chief")
    with Session(shequyun_kernel.engine) as session:
        grant, unit = session.exec(
            select(Grant, OrgUnit)
            .join(OrgUnit, OrgUnit.id == Grant.unit_id)
            .where(Grant.user_id == user.id)
        ).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "user.created")).one()
    assert (grant.role, unit.code) == ("identity.platform_admin", "310000000000")
    assert user.must_change_password is False
    assert verify_password(user.password_hash, PASSWORD) and PASSWORD not in user.password_hash
    assert entry.target_id == str(user.id) and entry.detail["via"] == "cli create-admin"
    page = shequyun_client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    shequyun_client.post(
        "/login", data={"username": "chief", "password": PASSWORD, "csrf_token": csrf}
    )
    me = shequyun_client.get("/api/v1/me").json()
    assert me["grant"]["role"] == "identity.platform_admin"


def test_create_admin_refuses_a_taken_username_and_a_weak_password(
    cli, shequyun_kernel, shequyun_units
):
    assert create_admin(cli).returncode == 0
    again = create_admin(cli, username="CHIEF")
    assert again.returncode == 1 and "已存在" in again.stderr
    weak = create_admin(cli, username="deputy", password="12345678")
    assert weak.returncode == 1 and "至少两类" in weak.stderr
    assert users_named(shequyun_kernel, "deputy") == []
    assert len(users_named(shequyun_kernel, "chief")) == 1


def test_create_admin_prompts_for_the_password_twice(cli, shequyun_kernel, shequyun_units):
    args = ("users", "create-admin", "--username", "chief", "--display-name", "王主任")
    mismatch = cli(*args, stdin=f"{PASSWORD}\nSomething-else-2\n")
    assert mismatch.returncode != 0
    assert users_named(shequyun_kernel, "chief") == []
    typed = cli(*args, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert typed.returncode == 0, typed.stderr
    assert verify_password(users_named(shequyun_kernel, "chief")[0].password_hash, PASSWORD)


def test_users_import_checks_then_applies_as_the_named_admin(
    cli, tmp_path, shequyun_kernel, shequyun_actors
):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "用户名,姓名,所属单位编码,角色\n"
        f"wangfang,王芳,{WEIFANG_1},居村干部\n"
        f"lijun,李军,{MEIYUAN},居村干部\n"
        f"wangfang,王芳,{WEIFANG_1},\n",
        encoding="gbk",
    )
    checked = cli("users", "import", str(bad), "--as", admin.username)
    assert checked.returncode == 1
    assert "第 3 行 所属单位编码（home_unit_code）" in checked.stderr
    assert "第 4 行 用户名（username）：与第 2 行的用户名重复" in checked.stderr
    assert users_named(shequyun_kernel, "wangfang") == []

    good = tmp_path / "good.csv"
    good.write_text(f"用户名,姓名,所属单位编码,角色\nwangfang,王芳,{WEIFANG_1},居村干部\n")
    dry = cli("users", "import", str(good), "--as", admin.username)
    assert dry.returncode == 0 and "--apply" in dry.stdout
    assert users_named(shequyun_kernel, "wangfang") == []
    out = tmp_path / "passwords.csv"
    applied = cli(
        "users", "import", str(good), "--as", admin.username, "--apply", "--passwords", str(out)
    )
    assert applied.returncode == 0, applied.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["用户名", "姓名", "初始密码"] and rows[1][0] == "wangfang"
    assert rows[1][2] not in applied.stdout
    [user] = users_named(shequyun_kernel, "wangfang")
    assert verify_password(user.password_hash, rows[1][2]) and user.must_change_password
    clobber = cli("users", "import", str(good), "--as", admin.username, "--passwords", str(out))
    assert clobber.returncode == 1

    not_admin = cli("users", "import", str(good), "--as", cadre.username)
    assert not_admin.returncode == 1 and "没有可以管理用户的授权" in not_admin.stderr
