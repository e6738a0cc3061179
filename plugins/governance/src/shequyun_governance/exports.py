"""The 民情 figures as files: CSV (UTF-8 with BOM, so Excel reads Chinese) and XLSX."""

from __future__ import annotations

import io
from typing import Any

from shequyun_sdk.csvfiles import csv_bytes, csv_cell

from .stats import Figures, table

__all__ = ["as_csv", "as_xlsx", "filename"]


def _sections(figures: Figures) -> list[tuple[str, list[str], list[list[Any]]]]:
    headers, rows = table(figures)
    return [
        ("按单位", headers, rows),
        (
            "按周期",
            ["周期", "民情日志", "案件"],
            [
                [label, logs, cases]
                for label, logs, cases in zip(
                    figures.labels, figures.logs_by_period, figures.cases_by_period, strict=True
                )
            ],
        ),
        ("案件类别", ["类别", "案件"], [list(r) for r in figures.cases_by_category]),
        ("案件来源", ["来源", "案件"], [list(r) for r in figures.cases_by_source]),
        ("案件状态", ["状态", "案件"], [list(r) for r in figures.cases_by_status]),
        ("日志类别", ["类别", "民情日志"], [list(r) for r in figures.logs_by_category]),
        ("热点楼栋", ["楼栋", "案件"], [list(r) for r in figures.hot_spots]),
    ]


def filename(figures: Figures, extension: str) -> str:
    return f"民情统计-{figures.unit.name}-{figures.since:%Y%m%d}起.{extension}"


def as_csv(figures: Figures) -> bytes:
    lines: list[list[Any]] = [
        [f"{figures.unit.name} 民情统计", f"自 {figures.since:%Y年%m月%d日} 起"]
    ]
    for title, headers, rows in _sections(figures):
        lines += [[], [title], headers, *rows]
    return csv_bytes(lines)


def as_xlsx(figures: Figures) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in _sections(figures):
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            # In a sheet too, text a person typed never runs as a formula.
            sheet.append([csv_cell(v) for v in row])
        sheet.column_dimensions["A"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
