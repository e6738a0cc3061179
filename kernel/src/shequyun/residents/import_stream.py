"""An import's ``COPY`` statements, run in a thread of their own (PostgreSQL).

The import used to prepare a batch's rows and then wait while PostgreSQL wrote them, so the
database idled during the preparing and the preparing waited for the database. With a stream,
the import hands a batch's inserts over and prepares the next batch while they are written.

The connection is never used by both threads at once: the import touches it only after
:meth:`CopyStream.wait` (nothing handed over is still being written) and hands over with
:meth:`CopyStream.send`, which waits the same way first. So at most one batch is being
written while the next is prepared.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .import_writer import CopyJob, copy_rows

__all__ = ["CopyStream"]


class CopyStream:
    """Runs handed-over inserts (:class:`~.import_writer.Writer`'s kept ``COPY`` jobs) on the
    psycopg connection ``raw``, in order, in a thread of its own.

    What fails there is raised by the next :meth:`wait` or :meth:`send`, and nothing more is
    written. :meth:`close` stops the thread (after the ``COPY`` under way, whose transaction
    the import then rolls back) and must run before the connection is used again."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._changed = threading.Condition()
        self._work: Sequence[CopyJob] | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self._thread.start()

    def send(self, jobs: Sequence[CopyJob]) -> None:
        """Write ``jobs`` in the stream's thread; returns once the previous ones are written."""
        self.wait()
        if not jobs:
            return
        with self._changed:
            self._work = jobs
            self._changed.notify_all()

    def wait(self) -> None:
        """Return once everything handed over is written (the connection is the caller's
        again); raise what went wrong in the stream's thread."""
        with self._changed:
            while self._work is not None and self._error is None:
                self._changed.wait()
            error = self._error
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop the thread: any jobs not yet started are dropped."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._work is None and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                jobs = self._work
            assert jobs is not None
            try:
                for job in jobs:
                    if self._closed:  # the import failed meanwhile: its transaction goes
                        break
                    copy_rows(self._raw, *job)
            except BaseException as exc:  # raised in the import's thread by wait()
                with self._changed:
                    self._error = exc
                    self._work = None
                    self._changed.notify_all()
                return
            with self._changed:
                self._work = None
                self._changed.notify_all()
