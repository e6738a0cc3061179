"""Where attachment content lives: a directory, one file per distinct content (by SHA-256).

Content-addressed files are written once (to a temporary name, then renamed), never changed,
and shared by every attachment row with the same hash, so concurrent uploads of one photo by
several workers are harmless. Several machines must share the directory (a network volume).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["BlobStore", "StorageFull"]


#: Errors that mean the store has no room: the disk (or the writer's quota, or its file-size
#: limit) is full. Only these become :class:`StorageFull`; others (permissions) stay themselves.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class StorageFull(OSError):
    """The attachment directory has no room for the file; nothing of it was kept."""


class BlobStore:
    """Files under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        """Keep ``data`` under its hash (a no-op when it is already there)."""
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            os.utime(target)  # fresh again, so a concurrent prune leaves it for the new row
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as out:
                    self._write(out, data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)  # never half a file under a hash
                raise
        except OSError as exc:
            if exc.errno in _NO_ROOM:
                raise StorageFull(exc.errno, exc.strerror) from exc
            raise
        return target

    @staticmethod
    def _write(out: BinaryIO, data: bytes) -> None:
        out.write(data)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def hashes(self) -> Iterator[str]:
        """Every stored hash (for pruning files no row refers to)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and not path.name.startswith("."):
                yield path.name
