"""Writing XLSX downloads without holding them in memory, safely for spreadsheet programs;
refusing uploaded XLSX files built to exhaust the reader."""

from __future__ import annotations

import io
import tempfile
import xml.parsers.expat
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["OVERPACKED_MESSAGE", "overpacked_xlsx", "xlsx_chunks"]

CHUNK_BYTES = 64 * 1024

#: Deflate packs a sheet's XML 5 to 20 times. A part packed much tighter was made to blow up
#: when read (a "zip bomb"): 170 KB held 20 million empty rows, which openpyxl took five
#: minutes and 1.8 GB to read, and a few hundred KB of shared strings exhaust the memory.
MAX_PACKING_RATIO = 100
#: A part smaller than this unpacked is never refused, however tightly it is packed.
SMALL_PART_BYTES = 1024 * 1024
#: Cells in one row, empty ones included: 600 KB packed held one row of 10 million empty
#: cells, which openpyxl took 145 s and 3.2 GB to read. Imports read at most 60 columns.
MAX_ROW_CELLS = 2000
#: Cells in the whole file: many rows just under :data:`MAX_ROW_CELLS` would cost as much. A
#: residents import's largest file (200,000 rows of 60 columns) holds 12 million.
MAX_CELLS = 20_000_000
#: Strings in the shared-string table (a 200,000-row residents file holds about a million).
MAX_SHARED_STRINGS = 5_000_000
OVERPACKED_MESSAGE = "该 XLSX 文件解压后异常庞大，无法读取；请在 Excel 中另存后重新上传"


def overpacked_xlsx(data: bytes) -> bool:
    """Whether the XLSX file ``data`` was made to exhaust the reader, asked before openpyxl
    opens an uploaded workbook: a part unpacks to more than :data:`MAX_PACKING_RATIO` times
    its packed size (and over :data:`SMALL_PART_BYTES`: sizes from the archive's directory,
    and Python's zipfile never unpacks more than a part's recorded size), or, read as a
    stream, a row holds more than :data:`MAX_ROW_CELLS` cells, the file more than
    :data:`MAX_CELLS` cells or :data:`MAX_SHARED_STRINGS` shared strings (openpyxl holds a
    whole row, and every shared string, in memory). A file that is not a ZIP archive is not
    judged here: the reader calls it damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if any(
                part.file_size > SMALL_PART_BYTES
                and part.file_size > MAX_PACKING_RATIO * max(part.compress_size, 1)
                for part in parts
            ):
                return True
            counter = _Counter()
            for part in parts:
                if part.filename.lower().endswith(".xml") and not counter.over:
                    counter.read(archive, part)
            return counter.over
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


class _Over(Exception):
    pass


class _Counter:
    """Counts, as expat streams the parts, the cells of each row and of the whole file, and
    the shared strings."""

    def __init__(self) -> None:
        self.cells = 0
        self.all_cells = 0
        self.strings = 0
        self.over = False

    def read(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        parser = xml.parsers.expat.ParserCreate()
        parser.StartElementHandler = self._start
        try:
            with archive.open(part) as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except _Over:
            self.over = True
        except xml.parsers.expat.ExpatError:
            pass  # a damaged part: openpyxl says so

    def _start(self, name: str, _attributes: Any) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            self.cells = 0
        elif local == "c":
            self.cells += 1
            self.all_cells += 1
            if self.cells > MAX_ROW_CELLS or self.all_cells > MAX_CELLS:
                raise _Over
        elif local == "si":
            self.strings += 1
            if self.strings > MAX_SHARED_STRINGS:
                raise _Over


def xlsx_chunks(
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] | None = None,
) -> Iterator[bytes]:
    """An XLSX file of ``header`` and ``rows``, built with a write-only workbook in a spooled
    temporary file, then yielded in chunks. Text that looks like a formula stays text, and
    characters XLSX cannot hold are dropped."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append(list(header))
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith("="):  # text, never a formula
                    cell = WriteOnlyCell(sheet, value)
                    cell.data_type = "s"
                    value = cell
            cells.append(value)
        sheet.append(cells)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as out:
        workbook.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK_BYTES):
            yield chunk
