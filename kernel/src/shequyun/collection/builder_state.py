"""The form builder's state as the page holds it: questions in named inputs, and the steps a
clerk takes on them (add, move, remove) as submit buttons.

Every question is a set of inputs named ``q-<key>-<setting>`` (``q-3-label``, ``q-12-2-kind``
for the second column of the twelfth question's table), so the whole state travels with each
post and the page works without JavaScript: a button (``op``) changes the list and the page
comes back drawn anew. ``form_builder.js`` makes the same posts in the background.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..portal.form_fields import input_value
from .questions import (
    CHOICE_KINDS,
    CONDITION_KINDS,
    DEFAULT_BOUNDS,
    KIND_TITLES,
    NESTED_KINDS,
    Question,
    QuestionProblem,
    bounds_of,
    check,
    number_of,
)

__all__ = ["BuilderState", "apply_op", "preview_questions", "read_state"]

SETTINGS = ("kind", "name", "label", "help", "choices", "min", "max", "pattern", "show_field")


@dataclass
class BuilderState:
    """The questions read from the page, with the inputs that could not be read."""

    questions: list[Question]
    unreadable: dict[str, str] = field(default_factory=dict)  # input name → Chinese message
    raw: dict[str, str] = field(default_factory=dict)  # input name → the text as typed


def prefix(key: str) -> str:
    return "q-" + key.replace(".", "-") + "-"


def read_state(form: Any) -> BuilderState:
    """The questions in a posted builder form (Starlette ``FormData`` or any multi-dict)."""
    state = BuilderState([])
    state.questions = _read_level(form, "", state)
    return state


def _first(form: Any, name: str) -> str:
    values = form.getlist(name)
    return str(values[0]) if values else ""


def _read_level(form: Any, base: str, state: BuilderState) -> list[Question]:
    found: list[Question] = []
    index = 1
    while index <= 500:
        key = f"{base}.{index}" if base else str(index)
        at = prefix(key)
        if f"{at}kind" not in form:
            break
        question = Question(
            kind=_first(form, f"{at}kind"),
            name=_first(form, f"{at}name").strip(),
            label=_first(form, f"{at}label").strip(),
            help=_first(form, f"{at}help").strip(),
            required=bool(form.getlist(f"{at}required")),
            pattern=_first(form, f"{at}pattern").strip(),
            widget=_first(form, f"{at}widget").strip(),
        )
        choices = _first(form, f"{at}choices").replace("\r", "")
        question.choices = [c.strip() for c in choices.split("\n") if c.strip()]
        for setting in ("min", "max"):
            text = _first(form, f"{at}{setting}")
            value = _number(text)
            if text.strip() and value is None:
                state.unreadable[f"{at}{setting}"] = f"{text.strip()} 不是数字"
                state.raw[f"{at}{setting}"] = text
            setattr(question, "minimum" if setting == "min" else "maximum", value)
        question.show_field = _first(form, f"{at}show_field").strip()
        if question.show_field:
            question.show_values = [
                True if v == "true" else False if v == "false" else str(v)
                for v in form.getlist(f"{at}show_values")
            ]
        if question.kind in NESTED_KINDS:
            question.children = _read_level(form, key, state)
        found.append(question)
        index += 1
    # A condition's answers are kept only when they are answers of the question it names:
    # after the named question changes, its old answers would only confuse.
    by_name = {q.name: q for q in found}
    for question in found:
        target = by_name.get(question.show_field)
        if target is not None and target.kind == "yes_no":
            question.show_values = [v for v in question.show_values if isinstance(v, bool)]
        elif target is not None:
            question.show_values = [v for v in question.show_values if v in target.choices]
    return found


def _number(text: str) -> int | float | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


# -- the steps ------------------------------------------------------------------------------


def _level_of(questions: list[Question], key: str) -> tuple[list[Question], int]:
    """The list holding the question at ``key`` and its index there."""
    parts = [int(p) - 1 for p in key.split(".")]
    level = questions
    for part in parts[:-1]:
        if not 0 <= part < len(level):
            raise KeyError(key)
        level = level[part].children
    if not 0 <= parts[-1] < len(level):
        raise KeyError(key)
    return level, parts[-1]


def new_question(kind: str, taken: Sequence[Question]) -> Question:
    names = {q.name for q in taken}
    number = len(taken) + 1
    while f"q{number}" in names:
        number += 1
    low, high = DEFAULT_BOUNDS.get(kind, (None, None))
    question = Question(kind=kind, name=f"q{number}", minimum=low, maximum=high)
    if kind in NESTED_KINDS:
        question.children = [new_question("text", [])]
    return question


def apply_op(questions: list[Question], op: str, form: Any) -> str | None:
    """Apply a step (``add``, ``add:3``, ``up:3.2``, ``down:1``, ``remove:2``) and return the
    key of the question to bring into view, or ``None`` when nothing changed."""
    verb, _, key = op.partition(":")
    try:
        if verb == "add":
            kind = _first(form, f"add_kind-{key}" if key else "add_kind")
            if kind not in KIND_TITLES:
                return None
            if key:
                parent_level, index = _level_of(questions, key)
                parent = parent_level[index]
                if kind in NESTED_KINDS or parent.kind not in NESTED_KINDS:
                    return None
                parent.children.append(new_question(kind, parent.children))
                return f"{key}.{len(parent.children)}"
            questions.append(new_question(kind, questions))
            return str(len(questions))
        level, index = _level_of(questions, key)
    except (KeyError, ValueError):
        return None
    base = key.rpartition(".")[0]

    def at(i: int) -> str:
        return f"{base}.{i + 1}" if base else str(i + 1)

    if verb == "remove":
        level.pop(index)
        return at(max(index - 1, 0)) if level else (base or None)
    if verb == "up" and index > 0:
        level[index - 1], level[index] = level[index], level[index - 1]
        return at(index - 1)
    if verb == "down" and index < len(level) - 1:
        level[index + 1], level[index] = level[index], level[index + 1]
        return at(index + 1)
    return key


# -- the preview ----------------------------------------------------------------------------


def preview_questions(questions: Sequence[Question]) -> list[Question]:
    """The questions as the preview can draw them while still being written: a blank label
    shows as its number, a choice without options gets a placeholder, unusable settings are
    left out. The form itself is only saved once :func:`questions.check` finds nothing."""
    problems = check(questions)
    bad = {(p.key, p.part) for p in problems}
    return _previewable(questions, "", bad, top=True)


def _previewable(
    questions: Sequence[Question], base: str, bad: set[tuple[str, str]], *, top: bool
) -> list[Question]:
    shown: list[Question] = []
    names: set[str] = set()
    for index, q in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)
        if q.kind not in KIND_TITLES or (q.kind in NESTED_KINDS and not top):
            continue
        copy = Question(**{**q.__dict__, "children": []})
        if (key, "name") in bad or copy.name in names:
            copy.name = "q_" + key.replace(".", "_")
        names.add(copy.name)
        if not copy.label:
            copy.label = f"{number_of(key)}（未填题目）"
        if copy.kind in CHOICE_KINDS and ((key, "choices") in bad or not copy.choices):
            copy.choices = list(dict.fromkeys(copy.choices)) or ["（未填选项）"]
        if (key, "bounds") in bad:
            copy.minimum = copy.maximum = None
        if (key, "pattern") in bad:
            copy.pattern = ""
        if (key, "condition") in bad or not any(s.name == q.show_field for s in shown):
            copy.show_field, copy.show_values = "", []
        if q.kind in NESTED_KINDS:
            copy.children = _previewable(q.children, key, bad, top=False)
            if not copy.children:
                continue
        shown.append(copy)
    return shown


# -- what the template draws ----------------------------------------------------------------


@dataclass
class QuestionView:
    key: str
    prefix: str
    number: str
    question: Question
    kind_title: str
    bounds: tuple[str, str] | None
    candidates: list[dict[str, Any]]  # earlier questions a condition may name, with answers
    problems: list[str]
    children: list[QuestionView]
    raw: Mapping[str, str]
    unreadable: Mapping[str, str]
    first: bool
    last: bool

    def value(self, setting: str) -> str:
        name = self.prefix + setting
        if name in self.raw:
            return self.raw[name]
        q = self.question
        value = {"min": q.minimum, "max": q.maximum}.get(setting)
        return "" if value is None else str(value)

    @property
    def choices_text(self) -> str:
        return "\n".join(self.question.choices)

    @property
    def chosen(self) -> set[str]:
        return {input_value(v) for v in self.question.show_values}


def question_views(
    questions: Sequence[Question],
    problems: Sequence[QuestionProblem],
    state: BuilderState,
    base: str = "",
) -> list[QuestionView]:
    views = []
    for index, q in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)
        earlier = questions[: index - 1]
        candidates = [
            {
                "name": e.name,
                "label": e.label or e.name,
                "answers": [("true", "是"), ("false", "否")]
                if e.kind == "yes_no"
                else [(c, c) for c in e.choices],
            }
            for e in earlier
            if e.kind in CONDITION_KINDS and e.name
        ]
        views.append(
            QuestionView(
                key=key,
                prefix=prefix(key),
                number=number_of(key),
                question=q,
                kind_title=KIND_TITLES.get(q.kind, q.kind),
                bounds=bounds_of(q.kind),
                candidates=candidates,
                problems=[p.message for p in problems if p.key == key],
                children=question_views(q.children, problems, state, key),
                raw=state.raw,
                unreadable=state.unreadable,
                first=index == 1,
                last=index == len(questions),
            )
        )
    return views
