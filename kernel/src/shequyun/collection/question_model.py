"""The questions of a form as a bureau clerk thinks of them: kinds, a :class:`Question`, the
problems a clerk can make, and how questions are numbered (第 3 题第 2 项).

:mod:`.questions` turns them into a form and back; :mod:`.question_checks` finds the problems.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHOICE_KINDS",
    "CONDITION_KINDS",
    "DEFAULT_BOUNDS",
    "FILE_KINDS",
    "KIND_TITLES",
    "NESTED_KINDS",
    "TEXT_LIMIT",
    "NotBuildable",
    "Question",
    "QuestionProblem",
    "bounds_of",
    "number_of",
    "title_of",
    "walk",
]

KIND_TITLES = {
    "text": "单行文字",
    "long_text": "多行文字",
    "integer": "整数",
    "number": "数字（可带小数）",
    "single_choice": "单选",
    "multiple_choice": "多选",
    "yes_no": "是／否",
    "date": "日期",
    "datetime": "日期和时间",
    "phone": "电话",
    "id_number": "身份证号",
    "email": "电子邮箱",
    "address": "地址（小区、楼号、单元、室号）",
    "photo": "照片（一张）",
    "photos": "照片（多张）",
    "attachment": "附件（一个）",
    "attachments": "附件（多个）",
    "table": "表格（每行填一组，可加行）",
    "group": "分组（把几道题放在一起）",
}
"""The kinds of question the builder offers, in the order it lists them."""

CHOICE_KINDS = frozenset({"single_choice", "multiple_choice"})
CONDITION_KINDS = frozenset({"single_choice", "multiple_choice", "yes_no"})
NESTED_KINDS = frozenset({"table", "group"})
FILE_KINDS = frozenset({"photo", "photos", "attachment", "attachments"})

TEXT_LIMIT = 200
"""Longer than this, ``fields.kind_of`` calls a string long text."""
DEFAULT_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    "text": (None, 50),
    "long_text": (None, 2000),
    "photos": (None, 9),
    "attachments": (None, 9),
    "table": (None, 20),
}
"""The bounds a new question of the builder starts with."""


class NotBuildable(ValueError):
    """A stored form the questions cannot say; the message says what, in Chinese."""


@dataclass
class Question:
    """One question: its kind (a key of :data:`KIND_TITLES`), export name, label and rules.

    ``minimum`` and ``maximum`` are the bounds the kind has (:func:`bounds_of`): the value of a
    number, the length of a text, how many choices, files or rows. ``show_field`` names an
    earlier question beside this one (same table or group) and ``show_values`` its answers
    that show this question. ``children`` are the columns of a table or the questions of a
    group. ``widget`` keeps a widget the UI layer named that the kind does not imply.
    """

    kind: str
    name: str
    label: str = ""
    help: str = ""
    required: bool = False
    choices: list[str] = field(default_factory=list)
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: str = ""
    show_field: str = ""
    show_values: list[Any] = field(default_factory=list)
    children: list[Question] = field(default_factory=list)
    widget: str = ""


@dataclass(frozen=True)
class QuestionProblem:
    """A problem with a question: ``key`` locates it (``"3"``, ``"3.2"`` for a column of a
    table), ``title`` names it as the clerk sees it (第 3 题「居住情况」), ``part`` is the
    setting at fault (``label``, ``choices``, ``name``... or ``""``)."""

    key: str
    title: str
    part: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.title}：{self.message}" if self.title else self.message


def bounds_of(kind: str) -> tuple[str, str] | None:
    """What ``minimum`` and ``maximum`` bound for a kind, as labels: ``("最小值", "最大值")``."""
    if kind in ("integer", "number"):
        return ("最小值", "最大值")
    if kind in ("text", "long_text"):
        return ("最少字数", "最多字数")
    if kind == "multiple_choice":
        return ("最少选几项", "最多选几项")
    if kind in ("photos", "attachments"):
        return ("最少几个文件", "最多几个文件")
    if kind == "table":
        return ("最少几行", "最多几行")
    return None


def walk(questions: Sequence[Question], base: str = "") -> Iterator[tuple[str, Question]]:
    """Every question with its key (``"1"``, ``"1.2"``), nested ones after their parent."""
    for index, question in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)
        yield key, question
        yield from walk(question.children, key)


def number_of(key: str) -> str:
    """How a key reads: ``"3"`` is 第 3 题, ``"3.2"`` is 第 3 题第 2 列."""
    parts = key.split(".")
    return f"第 {parts[0]} 题" + "".join(f"第 {p} 项" for p in parts[1:])


def title_of(key: str, question: Question) -> str:
    """How a problem names a question: 第 3 题「居住情况」."""
    label = question.label.strip()
    return f"{number_of(key)}「{label[:30]}」" if label else number_of(key)
