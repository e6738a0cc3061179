"""The one CSV writer of every export: text a person typed never runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from shequyun_sdk.csvfiles import csv_bytes, csv_cell, csv_chunks


@pytest.mark.parametrize(
    "typed",
    [
        '=HYPERLINK("http://x","点这里")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "＝1+1",
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(typed):
    assert csv_cell(typed) == "'" + typed


@pytest.mark.parametrize("kept", [12, -3, 2.5, -0.25, "-12.5", "+86", "1+1", "备注", "", True])
def test_numbers_and_ordinary_text_stay_as_they_are(kept):
    assert csv_cell(kept) == kept


def test_none_is_an_empty_cell():
    assert csv_cell(None) == ""


def test_the_file_has_a_bom_and_neutralises_the_header_too():
    data = csv_bytes([["=1+1", -4, None]], header=["姓名", '=HYPERLINK("http://x")'])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["姓名", '\'=HYPERLINK("http://x")'], ["'=1+1", "-4", ""]]


def test_a_large_file_comes_in_several_chunks_that_add_up_to_one_file():
    rows = [[f"居民{i}", "x" * 100] for i in range(2000)]
    chunks = list(csv_chunks(iter(rows), header=["a", "b"]))
    assert len(chunks) > 1
    assert b"".join(chunks) == csv_bytes(rows, header=["a", "b"])


def test_no_export_writes_csv_past_the_one_writer():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [root / "kernel" / "src", root / "sdk" / "src", root / "plugins", root / "examples"]
    writers = [
        str(path.relative_to(root))
        for base in sources
        for path in base.rglob("*.py")
        if "/tests/" not in str(path)
        and path.name != "csvfiles.py"
        and ("csv.writer(" in (text := path.read_text("utf-8")) or "csv.DictWriter(" in text)
    ]
    assert writers == [], "write CSV with shequyun_sdk.csvfiles instead"
