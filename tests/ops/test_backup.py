"""Backup and restore as docs/operations.md describes it: dump the database (pg_dump, or
SQLite's online ``.backup``), copy the attachment directory, keep the keys apart; restore into
a fresh database and check it with ``shequyun backup verify --expect``."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shequyun.residents.crypto import FieldCipher

from ..attachments._files import pdf, png
from ..conftest import subprocess_env
from ..residents._data import id_number, resident
from .servers import run

DATA_KEY = "this-site-s-data-key-kept-in-the-secret-store"


@pytest.fixture
def shequyun_settings():
    return {"data_key": DATA_KEY}


@pytest.fixture
def site(shequyun_kernel, shequyun_client, shequyun_actors, tmp_path):
    """A platform with residents (some with phones) and attachments."""
    cadre = shequyun_actors.cadre()
    for n in range(12):
        person = resident(
            id_number=id_number(serial=f"{100 + n}"),
            household_number=f"H-{n}",
            phone=f"1381234{n:04d}" if n % 2 else None,
        )
        if person["phone"] is None:
            del person["phone"]
        created = shequyun_client.post("/api/v1/residents", json=person, headers=cadre.auth)
        assert created.status_code == 201, created.text
    for name, data in (("a.png", png()), ("b.png", png(3, 3)), ("c.pdf", pdf())):
        uploaded = shequyun_client.post(
            "/api/v1/attachments", headers=cadre.auth, files={"file": (name, data)}
        )
        assert uploaded.status_code == 201, uploaded.text
    return shequyun_kernel


def cli(tmp_path: Path, url: str, files: Path, **extra: str) -> dict[str, str]:
    return subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL=url,
        SHEQUYUN_ATTACHMENTS_DIR=str(files),
        SHEQUYUN_PLUGINS_ALLOWED="",
        SHEQUYUN_DATA_KEY=DATA_KEY,
        **extra,
    )


def test_a_backup_restored_into_a_fresh_database_reads_the_same(site, tmp_path):
    source_url = site.settings.database_url
    source_files = site.settings.effective_attachments_dir
    counted = run("backup", "verify", "--json", env=cli(tmp_path, source_url, source_files))
    assert counted.returncode == 0, counted.stderr
    before = tmp_path / "counts.json"
    before.write_text(counted.stdout)
    assert json.loads(counted.stdout)["counts"]["kernel_resident"] == 12

    # The backup: the database first, then the files (docs/operations.md).
    restored_url = restore(source_url, tmp_path)
    restored_files = tmp_path / "restored-attachments"
    shutil.copytree(source_files, restored_files)
    try:
        env = cli(tmp_path, restored_url, restored_files)
        checked = run("backup", "verify", "--expect", str(before), env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "residents decrypted: 12" in checked.stdout
        assert "attachments: 3 files present, 3 re-hashed" in checked.stdout
        assert sample(source_url) == sample(restored_url)

        # What verify is for: a missing file, the wrong key, a different count.
        missing = next(p for p in restored_files.rglob("*") if p.is_file())
        missing.unlink()
        broken = run("backup", "verify", "--expect", str(before), env=env)
        assert broken.returncode == 1
        assert f"its file {missing.name} is missing" in broken.stderr
        wrong_key = run("backup", "verify", env={**env, "SHEQUYUN_DATA_KEY": "not-it"})
        assert wrong_key.returncode == 1
        assert "data_key (SHEQUYUN_DATA_KEY) is not the key" in wrong_key.stderr
        # Not "0 files", "residents decrypted: 0", as if the copy were empty: the files are
        # there whatever the key, the residents cannot be read with this one.
        assert "residents decrypted: none, the data key does not read" in wrong_key.stdout
        assert "attachments: 2 files present, 2 re-hashed" in wrong_key.stdout
        assert f"its file {missing.name} is missing" in wrong_key.stderr
        assert wrong_key.stdout.endswith("2 problem(s), the data key is wrong\n")
        as_json = run("backup", "verify", "--json", env={**env, "SHEQUYUN_DATA_KEY": "not-it"})
        assert as_json.returncode == 1
        found = json.loads(as_json.stdout)
        assert (found["data_key_fits"], found["attachments_present"]) == (False, 2)
        fewer = json.loads(before.read_text())
        fewer["counts"]["kernel_resident"] = 13
        before.write_text(json.dumps(fewer))
        short = run("backup", "verify", "--expect", str(before), env=env)
        assert "table kernel_resident: 12 rows here, 13 in the source" in short.stderr
    finally:
        drop(restored_url)


def restore(source_url: str, tmp_path: Path) -> str:
    """Dump the source and restore it into a fresh database, as the docs say; its URL."""
    url = make_url(source_url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "restored.db"
        # What `sqlite3 shequyun.db ".backup copy.db"` does: a consistent copy, online.
        with sqlite3.connect(url.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return f"sqlite:///{copy}"
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "shequyun.dump"
    done = subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", libpq], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    fresh = f"{url.database}_restored_{uuid.uuid4().hex[:6]}"
    admin(source_url, f'CREATE DATABASE "{fresh}"')
    target = url.set(database=fresh)
    done = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={target.set(drivername='postgresql').render_as_string(False)}",
            str(dump),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return target.render_as_string(hide_password=False)


def drop(url: str) -> None:
    if make_url(url).get_backend_name() == "postgresql":
        admin(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def admin(url: str, statement: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def sample(url: str) -> list[tuple]:
    """Every resident's name, ID number and phone, decrypted with the site's key."""
    cipher = FieldCipher(DATA_KEY)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, name, id_number_enc, phone_enc FROM kernel_resident ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    return [
        (r.id, r.name, cipher.decrypt(r.id_number_enc), r.phone_enc and cipher.decrypt(r.phone_enc))
        for r in rows
    ]
