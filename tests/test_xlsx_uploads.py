"""Uploaded XLSX files built to exhaust the reader are refused before openpyxl reads them.

A "zip bomb" workbook packs a sheet of millions of empty rows, or millions of shared strings,
into a few kilobytes (openpyxl took five minutes and 1.8 GB to read one of 170 KB), or one row
of millions of empty cells into an archive packed like any other (145 s and 3.2 GB for 600 KB).
Every door
that reads an uploaded workbook (the residents import, the form sheet, the user and org
imports) asks :func:`shequyun.spreadsheets.overpacked_xlsx` first, and counts the blank rows
it reads.
"""

from __future__ import annotations

import csv
import io
import secrets
import zipfile

import pytest
from openpyxl import Workbook
from shequyun_sdk import ValidationFailed
from sqlmodel import Session, func, select

from shequyun import spreadsheets
from shequyun.collection.form_sheets import MAX_ROWS_READ, read_workbook
from shequyun.identity import org_import_file, user_import
from shequyun.residents.import_table import MAX_BLANK_ROWS, ImportTable
from shequyun.residents.models import Resident
from shequyun.spreadsheets import MAX_ROW_CELLS, OVERPACKED_MESSAGE, overpacked_xlsx

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
        'PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="survey" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>'
    ),
}
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def bomb(
    *, empty_rows: int = 0, shared_strings: int = 0, wide_row: int = 0, noise: int = 0
) -> bytes:
    """A valid workbook whose sheet has a header row, ``empty_rows`` empty rows and a row of
    ``wide_row`` empty cells, and whose shared-string table holds ``shared_strings`` strings:
    a few KB packed, megabytes unpacked. ``noise`` random bytes (in a comment) make it pack
    as loosely as an ordinary workbook."""
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>type</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>label</t></is></c></row>'
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}"><sheetData>{header}'
        + "<row/>" * empty_rows
        + ('<row r="2">' + "<c/>" * wide_row + "</row>" if wide_row else "")
        + f"<!--{secrets.token_hex(noise // 2)}-->"
        + "</sheetData></worksheet>"
    )
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_NS}">'
        + "<si><t>a</t></si>" * shared_strings
        + "</sst>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings)
    return out.getvalue()


BOMBS = {
    "empty rows": bomb(empty_rows=300_000),
    "shared strings": bomb(shared_strings=150_000),
    # Packed like any workbook: the cells of one row give it away.
    "wide row": bomb(wide_row=2_000_000, noise=200_000),
}


def workbook(rows: list[list[object]], title: str = "survey") -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_real_workbook_of_one_repeated_value_is_not_overpacked():
    # The tightest packing a real sheet gets: the same text in every cell (about 24 times).
    data = workbook([["户籍"] * 10] * 6000)
    assert max(p.file_size for p in zipfile.ZipFile(io.BytesIO(data)).infolist()) > 1024 * 1024
    assert not overpacked_xlsx(data)
    assert not overpacked_xlsx(b"PK\x03\x04 not really a zip")  # the reader says "damaged"
    for data in BOMBS.values():
        assert overpacked_xlsx(data)


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_every_reader_refuses_a_bomb_before_reading_it(kind):
    data = BOMBS[kind]
    assert len(data) < 200_000
    assert [p.message for p in read_workbook(data).problems] == [OVERPACKED_MESSAGE]
    for read in (
        lambda: list(ImportTable(data, "居民.xlsx").rows()),
        lambda: user_import.read_table(data, "users.xlsx"),
        lambda: org_import_file.read_rows(data, "org.xlsx"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            read()
        assert refused.value.message == OVERPACKED_MESSAGE
        assert refused.value.field == "file"


def test_a_cadre_uploading_a_bomb_gets_422_and_nothing_is_written(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre("310115004001")
    for dry_run in ("true", "false"):
        answer = shequyun_client.post(
            f"/api/v1/residents/import?dry_run={dry_run}",
            files={"file": ("居民.xlsx", BOMBS["empty rows"], "application/octet-stream")},
            headers=cadre.auth,
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == {
            "code": "validation_failed",
            "message": OVERPACKED_MESSAGE,
            "field": "file",
        }
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(func.count()).select_from(Resident)).one() == 0


def two_wide_rows(cells: int) -> bytes:
    """A workbook of two rows of ``cells`` empty cells each."""
    one = zipfile.ZipFile(io.BytesIO(bomb(wide_row=cells)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in one.infolist():
            text = one.read(part.filename)
            if "worksheets" in part.filename:
                row = b'<row r="2">' + b"<c/>" * cells + b"</row>"
                text = text.replace(row, row + row.replace(b'r="2"', b'r="3"'))
            archive.writestr(part.filename, text)
    return out.getvalue()


def test_too_many_cells_in_a_row_or_the_file_or_too_many_strings_are_refused(monkeypatch):
    wide = BOMBS["wide row"]
    [sheet] = [
        p for p in zipfile.ZipFile(io.BytesIO(wide)).infolist() if "worksheets" in p.filename
    ]
    assert sheet.file_size < 100 * sheet.compress_size  # not refused for its packing
    assert overpacked_xlsx(wide)
    assert not overpacked_xlsx(bomb(wide_row=MAX_ROW_CELLS))
    assert overpacked_xlsx(bomb(wide_row=MAX_ROW_CELLS + 1))
    monkeypatch.setattr(spreadsheets, "MAX_CELLS", 3000)  # rows each under the row's bound
    assert not overpacked_xlsx(bomb(wide_row=1500))
    assert overpacked_xlsx(two_wide_rows(1500))
    monkeypatch.setattr(spreadsheets, "MAX_SHARED_STRINGS", 1000)
    assert not overpacked_xlsx(bomb(shared_strings=1000))
    assert overpacked_xlsx(bomb(shared_strings=1001))


def test_a_form_sheet_of_too_many_blank_rows_is_refused():
    # Packed like any workbook, so only the count of rows read stops it.
    data = workbook([["type", "label"], ["integer", "楼栋数"], *[[" "]] * MAX_ROWS_READ])
    assert not overpacked_xlsx(data)
    problems = [p.message for p in read_workbook(data).problems]
    assert problems == [f"工作表超过 {MAX_ROWS_READ} 行（含空行），请删去多余的空行"]


def test_a_residents_file_of_too_many_blank_rows_is_refused():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "身份证号", "户籍类型", "所属居委编码"])
    out.write("\r\n" * (20 + MAX_BLANK_ROWS))
    table = ImportTable(out.getvalue().encode(), "居民.csv", max_rows=10)
    with pytest.raises(ValidationFailed, match="含空行") as refused:
        list(table.rows())
    assert refused.value.field == "file"


def test_an_org_sheet_of_too_many_blank_rows_is_refused(monkeypatch):
    monkeypatch.setattr(org_import_file, "MAX_SHEET_ROWS", 50)
    data = workbook([["单位编码", "单位名称", "层级", "上级编码"], *[[None, " "]] * 60])
    with pytest.raises(ValidationFailed, match="含空行") as refused:
        org_import_file.read_rows(data, "org.xlsx")
    assert refused.value.field == "file"
