"""Writing XLSX downloads without holding them in memory, safely for spreadsheet programs;
refusing uploaded XLSX files built to exhaust the reader."""

from __future__ import annotations

import io
import tempfile
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
OVERPACKED_MESSAGE = "该 XLSX 文件解压后异常庞大，无法读取；请在 Excel 中另存后重新上传"


def overpacked_xlsx(data: bytes) -> bool:
    """Whether a part of the XLSX file ``data`` unpacks to more than :data:`MAX_PACKING_RATIO`
    times its packed size (and over :data:`SMALL_PART_BYTES`). Asked before openpyxl opens an
    uploaded workbook: the sizes are read from the archive's directory, nothing is unpacked,
    and Python's zipfile never unpacks more than a part's recorded size. A file that is not a
    ZIP archive is not judged here: the reader calls it damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return any(
        part.file_size > SMALL_PART_BYTES
        and part.file_size > MAX_PACKING_RATIO * max(part.compress_size, 1)
        for part in parts
    )


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
