"""The Chinese reason each condition gives for each outcome.

A reason depends only on the condition, its outcome and the parameters in force on the reference
day (``{standard}`` in a text is the figure of parameter ``standard`` then), never on the
person's own values: the SQL and the Python evaluators agree on outcomes, so they agree on
reasons, and no reason can leak a birth date or an ID number into a list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .model import CONFIRM, FAIL, OUTCOME_NAMES, PASS, UNKNOWN, Leaf, Parameter, Policy
from .schema import REGISTRATIONS

__all__ = ["default_reasons", "render_reason"]

_GENDERS = {"male": "男性", "female": "女性"}


def _tags(values: Any) -> str:
    return "、".join(f"「{v}」" for v in values)


def default_reasons(
    kind: str, args: Mapping[str, Any], label: str, parameters: Mapping[str, Parameter]
) -> dict[str, str]:
    """Reasons for a condition written without its own ``reason``."""
    value = args.get("value")
    if kind == "age_min":
        return {
            "pass": f"年满{value}周岁",
            "fail": f"未满{value}周岁",
            "unknown": f"缺少出生日期，无法判断是否年满{value}周岁",
        }
    if kind == "age_below":
        return {
            "pass": f"未满{value}周岁",
            "fail": f"已满{value}周岁",
            "unknown": f"缺少出生日期，无法判断是否未满{value}周岁",
        }
    if kind == "registration":
        wanted = "或".join(REGISTRATIONS[v] for v in value)
        return {
            "pass": f"户籍类型为{wanted}",
            "fail": f"户籍类型不是{wanted}",
            "unknown": "缺少户籍类型",
        }
    if kind == "gender":
        return {"pass": _GENDERS[value], "fail": f"不是{_GENDERS[value]}", "unknown": "缺少性别"}
    if kind == "tag":
        return {
            "pass": f"已登记为「{value}」",
            "fail": f"未登记为「{value}」",
            "unknown": "缺少居民标签信息",
        }
    if kind == "tags_any":
        return {
            "pass": f"已登记为{_tags(value)}之一",
            "fail": f"未登记为{_tags(value)}中的任何一项",
            "unknown": "缺少居民标签信息",
        }
    if kind == "attribute":
        wanted = _attribute_wanted(args)
        return {
            "pass": f"{label}{wanted}",
            "fail": f"{label}不符合（须{wanted}）",
            "unknown": f"缺少{label}，请补充登记",
        }
    if kind == "household_size":
        wanted = _size_wanted(args)
        return {
            "pass": f"家庭人口{wanted}",
            "fail": f"家庭人口不符合（须{wanted}）",
            "unknown": "未登记家庭户，无法判断家庭人口",
        }
    if kind == "household_all_aged":
        return {
            "pass": f"家庭成员均已年满{value}周岁",
            "fail": f"家中有未满{value}周岁的成员",
            "unknown": f"未登记家庭户，无法判断是否家庭成员均满{value}周岁",
        }
    if kind == "household_child_under":
        return {
            "pass": f"家中有未满{value}周岁的孩子",
            "fail": f"家中没有未满{value}周岁的孩子",
            "unknown": "未登记家庭户，无法判断家中是否有孩子",
        }
    if kind == "place":
        return {
            "pass": "居住在政策适用地区",
            "fail": "不在政策适用地区",
            "unknown": "缺少居住地",
        }
    if kind == "confirm":
        return {"confirm": f"{value}（需本人确认、经办核实）"}
    raise ValueError(f"unknown condition kind {kind!r}")


def _attribute_wanted(args: Mapping[str, Any]) -> str:
    parts = []
    if "in" in args:
        parts.append("为" + "或".join(str(v) for v in args["in"]))
    if "min" in args:
        parts.append(f"不低于{args['min']}")
    if "max" in args:
        parts.append(f"不高于{args['max']}")
    return "，".join(parts) if parts else "已登记"


def _size_wanted(args: Mapping[str, Any]) -> str:
    low, high = args.get("min"), args.get("max")
    if low is not None and high is not None:
        return f"为{low}至{high}人" if low != high else f"为{low}人"
    return f"不少于{low}人" if low is not None else f"不超过{high}人"


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def render_reason(policy: Policy, leaf: Leaf, code: int, day: date) -> str:
    """The reason ``leaf`` gives for outcome ``code`` on ``day``."""
    name = OUTCOME_NAMES[code]
    text = leaf.reasons.get(name)
    if text is None:  # a data condition cannot "confirm"; a "confirm" only confirms
        text = leaf.reasons.get("confirm" if code in (PASS, CONFIRM) else "unknown", "")
        if code in (FAIL, UNKNOWN) and not text:
            text = leaf.reasons.get("fail", "")

    def figure(match: re.Match[str]) -> str:
        parameter = policy.parameters.get(match.group(1))
        dated = parameter.at(day) if parameter is not None else None
        if parameter is None or dated is None or dated.value is None:
            return match.group(0)
        return f"{dated.value}{parameter.unit}"

    return _PLACEHOLDER.sub(figure, text)
