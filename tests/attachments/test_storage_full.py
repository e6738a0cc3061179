"""A full attachment disk: a clear 507 naming the field, and nothing half-stored (no row, no
file, no temporary file), then uploads work again once there is room."""

from __future__ import annotations

import errno
import resource
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from shequyun.attachments.models import Attachment
from shequyun.attachments.storage import BlobStore

from ._files import png


def files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_to_a_full_disk_is_refused_clearly_and_leaves_nothing(
    shequyun_kernel, shequyun_client, shequyun_actors, monkeypatch
):
    cadre = shequyun_actors.cadre()
    root = shequyun_kernel.attachments.blobs.root

    def fill_up(out, data: bytes) -> None:
        out.write(data[: len(data) // 2])  # half of it fits, then the disk is full
        out.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BlobStore, "_write", staticmethod(fill_up))
    refused = shequyun_client.post(
        "/api/v1/attachments", headers=cadre.auth, files={"file": ("photo.png", png(4, 4))}
    )
    assert refused.status_code == 507, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("storage_full", "file")
    assert "存储空间已满" in error["message"]
    assert files_under(root) == []
    with shequyun_kernel.platform.session() as session:
        assert session.exec(select(func.count()).select_from(Attachment)).scalar_one() == 0

    monkeypatch.undo()  # room again
    stored = shequyun_client.post(
        "/api/v1/attachments", headers=cadre.auth, files={"file": ("photo.png", png(4, 4))}
    )
    assert stored.status_code == 201, stored.text
    assert len(files_under(root)) == 1


def test_a_write_past_the_file_size_limit_is_storage_full_and_leaves_no_file(tmp_path):
    """The operating system's own refusal (EFBIG under a file-size rlimit, in a subprocess),
    not a simulated one."""
    script = textwrap.dedent(
        f"""
        import hashlib
        from pathlib import Path
        from shequyun.attachments.storage import BlobStore, StorageFull
        data = bytes(range(256)) * 4096  # 1 MiB
        try:
            BlobStore(Path({str(tmp_path / "store")!r})).put(hashlib.sha256(data).hexdigest(), data)
        except StorageFull as exc:
            print("full", exc.errno)
        else:
            print("stored")
        """
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = subprocess.run(
        [sys.executable, "-c", script], preexec_fn=limit, capture_output=True, text=True
    )
    assert done.stdout.split() == ["full", str(errno.EFBIG)], done.stdout + done.stderr
    assert files_under(tmp_path / "store") == []
