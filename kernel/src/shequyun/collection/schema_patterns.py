"""Patterns in forms: checked to be safe (no catastrophic backtracking) and bounded before use."""

from __future__ import annotations

import importlib
import re
from typing import Any

from . import fields

# Python's own regex parser (re._parser since 3.11; typeshed has no stubs for it): the
# patterns jsonschema and most bureau systems run are Python or backtracking engines alike.
_sre: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")


# -- patterns ---------------------------------------------------------------------------------


def pattern_problem(pattern: str, max_length: int) -> str | None:
    """Why a ``pattern`` is refused, or ``None``: it must be short, valid and unable to hang.

    The server matches with re2 (linear time), but the same pattern runs in browsers (the
    portal's inputs) and bureau systems with backtracking engines, so what makes those
    backtrack exponentially is refused too: a repetition inside a repetition, alternatives that
    can start alike inside a repetition, back-references and lookarounds.
    """
    if len(pattern) > max_length:
        return f"正则表达式不能超过 {max_length} 个字符"
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return "正则表达式无效"
    problem = _unsafe(parsed)
    if problem:
        return problem
    try:
        fields.compile_pattern(pattern)
    except ValueError:
        return "正则表达式含有不支持的写法（服务器用 RE2 匹配）"
    return None


def _unsafe(parsed: Any) -> str | None:
    pending: list[tuple[Any, int]] = [(parsed, 0)]  # (subpattern, enclosing repetitions)
    while pending:
        items, repeated = pending.pop()
        for op, av in items:
            if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
                return "正则表达式不能使用反向引用"
            if op in (_sre.ASSERT, _sre.ASSERT_NOT):
                return "正则表达式不能使用前瞻或后顾断言"
            if op in (_sre.POSSESSIVE_REPEAT, _sre.ATOMIC_GROUP):
                return "正则表达式含有不支持的写法"
            if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
                low, high, body = av
                repeats = high > 1 or high == _sre.MAXREPEAT
                if repeats and _nullable(body):
                    # (a?){30}: each round may take the "a" or not, 2^30 ways to try.
                    return "正则表达式中重复的部分不能匹配空串（如 (a?){30}），会导致匹配极慢"
                if repeats and repeated and low != high:
                    return "正则表达式不能在重复中再嵌套重复（如 (a+)+），会导致匹配极慢"
                pending.append((body, repeated + (1 if repeats else 0)))
            elif op == _sre.SUBPATTERN:
                pending.append((av[3], repeated))
            elif op == _sre.BRANCH:
                if repeated and not _disjoint(av[1]):
                    return "正则表达式在重复中的分支不能以相同字符开头（如 (a|ab)*）"
                pending.extend((branch, repeated) for branch in av[1])
    return None


def _nullable(items: Any) -> bool:
    """Whether a subpattern can match the empty string (unknown constructs count as not)."""
    for op, av in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            if av[0] > 0 and not _nullable(av[2]):
                return False
        elif op == _sre.SUBPATTERN:
            if not _nullable(av[3]):
                return False
        elif op == _sre.BRANCH:
            if not any(_nullable(branch) for branch in av[1]):
                return False
        elif op != _sre.AT:
            return False
    return True


def _disjoint(branches: list[Any]) -> bool:
    seen: set[int] = set()
    for branch in branches:
        first = _first_chars(branch)
        if first is None or first & seen:
            return False
        seen |= first
    return True


def _first_chars(items: Any) -> set[int] | None:
    """The characters a subpattern can start with, or ``None`` when not simply known."""
    if not len(items):
        return None
    op, av = items[0]
    if op == _sre.LITERAL:
        return {av}
    if op == _sre.IN and all(o == _sre.LITERAL for o, _ in av):
        return {a for _, a in av}
    if op == _sre.SUBPATTERN:
        return _first_chars(av[3])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
        return _first_chars(av[2])
    return None
