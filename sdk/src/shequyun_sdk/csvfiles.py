"""CSV downloads that spreadsheet programs open safely: the one writer for every export.

A cell typed by a person (an answer, a unit's name, a form's field label, a file's header) that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by Excel,
WPS and LibreOffice when the CSV is opened (``=HYPERLINK("http://…","点这里")`` sends whoever
clicks it away with the row's data; DDE payloads start programs). Every such text cell gets a
leading apostrophe, the sign spreadsheets read as "this is text", which is what OWASP recommends.
Numbers stay numbers: an ``int`` or ``float``, and text that is a plain decimal number such as
``-12.5``, are written as they are.

The files are UTF-8 with a byte-order mark, so that Excel shows Chinese, and ``\\r\\n`` line ends.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["csv_bytes", "csv_cell", "csv_chunks"]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)
_CHUNK_BYTES = 64 * 1024


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs as a formula.

    Text starting with one of ``= + - @``, a tab or a carriage return (also after leading spaces,
    and in their full-width forms such as ``＝``) is prefixed with ``'``; numbers, and text that
    is a plain decimal number, are returned unchanged; ``None`` becomes an empty cell.
    """
    if value is None:
        return ""
    if not isinstance(value, str) or not value:
        return value
    start = value.lstrip(" ")[:1]
    if start in ("\t", "\r") or unicodedata.normalize("NFKC", start)[:1] in FORMULA_STARTS:
        if _NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def csv_chunks(
    rows: Iterable[Sequence[Any]], *, header: Sequence[Any] | None = None
) -> Iterator[bytes]:
    """A CSV file of ``header`` (if given) and ``rows``, every cell through :func:`csv_cell`,
    yielded in chunks of about 64 KB so that a large export is never held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    if header is not None:
        writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() > _CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def csv_bytes(rows: Iterable[Sequence[Any]], *, header: Sequence[Any] | None = None) -> bytes:
    """The whole file of :func:`csv_chunks` at once, for small downloads."""
    return b"".join(csv_chunks(rows, header=header))
