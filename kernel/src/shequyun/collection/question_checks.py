"""What a clerk can get wrong in a list of questions, found before the engine's own checks
(:func:`check`, each problem naming the question by its number and label in Chinese), and the
question an engine problem is about (:func:`owner_of`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import fields
from .fields import SAFE_NAME
from .question_model import (
    CHOICE_KINDS,
    CONDITION_KINDS,
    KIND_TITLES,
    NESTED_KINDS,
    TEXT_LIMIT,
    Question,
    QuestionProblem,
    bounds_of,
    number_of,
    title_of,
)
from .schema_patterns import pattern_problem

__all__ = ["check", "owner_of"]


def check(questions: Sequence[Question]) -> list[QuestionProblem]:
    """Every problem of the questions, in their order, before :func:`to_form` writes them."""
    problems: list[QuestionProblem] = []
    if not questions:
        problems.append(QuestionProblem("", "", "", "表单至少需要一道题"))
    _check_level(questions, "", problems, top=True)
    return problems


def _check_level(
    questions: Sequence[Question], base: str, problems: list[QuestionProblem], *, top: bool
) -> None:
    seen: dict[str, str] = {}
    earlier: dict[str, Question] = {}
    for index, q in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)

        def add(part: str, message: str, key: str = key, q: Question = q) -> None:
            problems.append(QuestionProblem(key, title_of(key, q), part, message))

        if q.kind not in KIND_TITLES:
            add("kind", "请选择题型")
            continue
        if not q.label.strip():
            add("label", "请填写题目")
        elif len(q.label) > 100:
            add("label", "题目不能超过 100 个字")
        if len(q.help) > 1000:
            add("help", "说明不能超过 1000 个字")
        if not SAFE_NAME.fullmatch(q.name):
            add("name", "导出列名只能用英文字母、数字和 _，不以数字开头，最长 64 个字符")
        elif q.name in seen:
            add("name", f"导出列名 {q.name} 与{number_of(seen[q.name])}重复")
        else:
            seen[q.name] = key
        if q.kind in NESTED_KINDS and not top:
            add("kind", "表格或分组里不能再放表格或分组")
        _check_choices(q, add)
        _check_bounds(q, add)
        if q.pattern and q.kind in ("text", "long_text"):
            problem = pattern_problem(q.pattern, 200)
            if problem:
                add("pattern", problem)
        _check_condition(q, earlier, add)
        earlier[q.name] = q
        if q.kind in NESTED_KINDS:
            if not q.children:
                add("children", "表格至少需要一列" if q.kind == "table" else "分组至少需要一道题")
            _check_level(q.children, key, problems, top=False)


def _check_choices(q: Question, add: Any) -> None:
    if q.kind not in CHOICE_KINDS:
        return
    if not q.choices:
        add("choices", "请至少写一个选项（每行一个）")
    duplicates = sorted({c for c in q.choices if q.choices.count(c) > 1})
    if duplicates:
        add("choices", f"选项重复：{'、'.join(duplicates)}")
    if any(len(c) > 100 for c in q.choices):
        add("choices", "每个选项不能超过 100 个字")


def _check_bounds(q: Question, add: Any) -> None:
    names = bounds_of(q.kind)
    if names is None:
        return
    counted = q.kind not in ("integer", "number")
    for value, label in ((q.minimum, names[0]), (q.maximum, names[1])):
        if value is None:
            continue
        if counted and (not isinstance(value, int) or value < 0):
            add("bounds", f"{label}应为不小于 0 的整数")
            return
        if q.kind == "integer" and not isinstance(value, int):
            add("bounds", f"{label}应为整数")
            return
    if q.minimum is not None and q.maximum is not None and q.minimum > q.maximum:
        add("bounds", f"{names[0]}大于{names[1]}，没有答案能通过")
    if q.kind == "text" and q.maximum is not None and q.maximum > TEXT_LIMIT:
        add("bounds", f"单行文字最多 {TEXT_LIMIT} 个字，更长的请选“多行文字”")
    if q.kind == "multiple_choice" and q.maximum is not None and q.maximum > len(q.choices):
        add("bounds", f"{names[1]}超过了选项的个数（{len(q.choices)} 个）")


def _check_condition(q: Question, earlier: Mapping[str, Question], add: Any) -> None:
    if not q.show_field:
        return
    target = earlier.get(q.show_field)
    if target is None:
        add("condition", "显示条件只能依据同一层中排在它前面的题目")
        return
    if target.kind not in CONDITION_KINDS:
        add("condition", f"显示条件依据的「{target.label}」不是单选、多选或是／否题")
        return
    if not q.show_values:
        add("condition", f"请选择「{target.label}」为哪些答案时显示本题")
        return
    allowed = [True, False] if target.kind == "yes_no" else target.choices
    wrong = [v for v in q.show_values if not any(v == a and type(v) is type(a) for a in allowed)]
    if wrong:
        add(
            "condition",
            f"{'、'.join(fields.describe(v) for v in wrong)} 不是「{target.label}」的选项",
        )


# -- the question a problem of the engine is about ----------------------------------------------

_PROPERTY = re.compile(r"/properties/([^/]+)")


def owner_of(pointer: str, questions: Sequence[Question]) -> str:
    """The key of the question an engine problem points at (``schema/properties/a/items/...``
    or ``ui/fields/a.b/...``), or ``""`` when it is about the whole form."""
    if pointer.startswith("ui/fields/"):
        names = pointer.removeprefix("ui/fields/").split("/", 1)[0].split(".")
    else:
        names = _PROPERTY.findall(pointer)
    key = ""
    level: Sequence[Question] = questions
    for name in names:
        name = name.replace("~1", "/").replace("~0", "~")
        found = next((i for i, q in enumerate(level, start=1) if q.name == name), None)
        if found is None:
            break
        key = f"{key}.{found}" if key else str(found)
        level = level[found - 1].children
    return key
