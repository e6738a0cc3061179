"""``shequyun residents import``: the same import from the command line, in a subprocess."""

from __future__ import annotations

import subprocess

from sqlmodel import Session, func, select

from shequyun.residents.models import Resident, ResidentChange

from ..conftest import SHEQUYUN, subprocess_env
from ._data import id_number

HEADER = "姓名,身份证号,户籍类型,联系电话,小区,楼栋,室,标签\n"


def run(env, *args):
    return subprocess.run(
        [SHEQUYUN, "residents", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_then_apply_a_file_as_a_cadre(tmp_path, shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    # The subprocess uses this test's database and data directory (hence its keys).
    env = subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="",  # the built-in plugins only, like the test kernel
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (
            HEADER
            + f"张桂芳,{id_number()[:-1]}0,户籍,13812345678,潍坊一村,3,201,独居老人\n"
            + f",{id_number(serial='222')},常住,,,,,\n"
        ).encode("gbk")
    )
    checked = run(env, str(bad), "--as", cadre.username, "--apply")
    assert checked.returncode == 1, checked.stderr
    assert "发现 2 处错误，未写入任何数据" in checked.stderr
    assert "第 2 行 “身份证号”：身份证号校验位不正确" in checked.stderr
    assert "第 3 行 “姓名”：不能为空" in checked.stderr

    good = tmp_path / "good.csv"
    good.write_text(
        HEADER
        + f"张桂芳,{id_number()},户籍,13812345678,潍坊一村,3,201,独居老人\n"
        + f"刘伟,{id_number(serial='222')},常住,,,,,\n",
        encoding="utf-8-sig",
    )
    dry = run(env, str(good), "--as", cadre.username)
    assert dry.returncode == 0, dry.stderr
    assert "检查了 2 行，全部正确：将新增 2 人，更新 0 人" in dry.stdout
    assert "检查" in dry.stderr  # the progress bar's label

    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(func.count()).select_from(Resident)).one() == 0

    applied = run(env, str(good), "--as", cadre.username, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "已导入 2 行：新增 2 人，更新 0 人" in applied.stdout
    with Session(shequyun_kernel.engine) as session:
        names = sorted(session.exec(select(Resident.name)).all())
        assert names == ["刘伟", "张桂芳"]
        sources = set(session.exec(select(ResidentChange.source)).all())
        assert sources == {"import"}


def test_a_user_without_the_import_permission_is_refused(
    tmp_path, shequyun_kernel, shequyun_actors
):
    worker = shequyun_actors.social_worker("310115004001")
    env = subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="",  # the built-in plugins only, like the test kernel
    )
    good = tmp_path / "good.csv"
    good.write_text(HEADER, encoding="utf-8")
    result = run(env, str(good), "--as", worker.username)
    assert result.returncode == 1
    assert f"{worker.username} 没有可以导入居民信息的授权" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run(env, str(good), "--as", "nobody")
    assert "找不到启用中的用户 nobody" in missing.stderr
