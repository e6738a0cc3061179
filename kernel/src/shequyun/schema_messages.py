"""What a JSON Schema validator found wrong, in Chinese.

jsonschema's own messages are English (``9 is greater than the maximum of 4``); the people who
read ours are cadres and district administrators. Quality rules' parameters, plugins' resident
attributes and plugins' settings are checked with jsonschema and explained here, in the words
the collection form validator (:mod:`.collection.validator`) uses for the same rules on a
form's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

__all__ = ["TYPE_NAMES", "in_chinese", "named_in_chinese"]

#: JSON types as a district administrator reads them.
TYPE_NAMES = {"integer": "整数", "number": "数字", "string": "文字", "array": "列表",
              "object": "对象", "boolean": "true 或 false", "null": "null"}  # fmt: skip


def _listed(values: Any) -> str:
    return "、".join(str(v) for v in values)


def in_chinese(error: jsonschema.ValidationError) -> str:
    """What is wrong with the value ``error`` is about (not where: the caller names that)."""
    rule, instance = error.validator, error.instance
    value: Any = error.validator_value
    if rule == "type":
        names = [value] if isinstance(value, str) else list(value)
        return "应为" + " 或 ".join(TYPE_NAMES.get(str(n), str(n)) for n in names)
    if rule == "minimum":
        return f"不能小于 {value}"
    if rule == "maximum":
        return f"不能大于 {value}"
    if rule == "exclusiveMinimum":
        return f"应大于 {value}"
    if rule == "exclusiveMaximum":
        return f"应小于 {value}"
    if rule == "multipleOf":
        return f"应为 {value} 的整数倍"
    if rule == "enum":
        return "应为以下之一：" + _listed(value)
    if rule == "const":
        return f"应为 {value}"
    if rule == "required" and isinstance(instance, Mapping):
        return "缺少 " + _listed(k for k in value if k not in instance)
    if rule == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        return "中有不认识的项：" + _listed(k for k in instance if k not in known)
    if rule == "minLength":
        return "不能为空" if value == 1 else f"不能少于 {value} 个字"
    if rule == "maxLength":
        return f"不能超过 {value} 个字"
    if rule == "minItems":
        return "不能为空" if value == 1 else f"至少填写 {value} 项"
    if rule == "maxItems":
        return f"不能超过 {value} 项"
    if rule == "uniqueItems":
        return "不能有重复项"
    if rule in ("pattern", "format"):
        return "格式不正确"
    return "不符合要求"


def named_in_chinese(error: jsonschema.ValidationError, schema: Any, whole: str) -> str:
    """``error`` as ``<where>：<what is wrong>``, where is the member the error is about by its
    ``title`` in ``schema`` and its key (``截止天数（deadline_days）``; the key alone without a
    title), a list's item by position (``区县[2]``), and ``whole`` for the value itself
    (``设置中有不认识的项：remind_by_sms``)."""
    where, here = "", schema
    for step in error.absolute_path:
        if isinstance(step, int):
            where += f"[{step}]"
            here = here.get("items") if isinstance(here, Mapping) else None
            continue
        here = here.get("properties", {}).get(step) if isinstance(here, Mapping) else None
        title = here.get("title") if isinstance(here, Mapping) else None
        named = f"{title}（{step}）" if isinstance(title, str) and title else str(step)
        where += f".{named}" if where else named
    what = in_chinese(error)
    if not where:
        return f"{whole}{what}"
    return f"{where}：{what}"
