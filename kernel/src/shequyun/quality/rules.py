"""Quality rules as data: the shipped set (``rules.json``) and the versions added in the portal.

A rule names a check (:data:`.checks.CHECKS`) with its parameters, a level (``error`` or
``warning``), a title and a Chinese explanation of how to fix what it finds. The city may
change a shipped rule (a new version under the same code) or add its own; a district adds
rules for its own area. Every change is a new version row, never an edit, so what a finding
was written under can always be shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from shequyun_sdk import ValidationFailed

from ..schema_messages import in_chinese
from .checks import CHECKS, KINDS
from .models import RuleVersion

__all__ = ["LEVELS", "Rule", "clean_rule", "effective_rules", "shipped_rules"]

LEVELS = {"error": "错误", "warning": "提醒"}
SHIPPED = Path(__file__).with_name("rules.json")
_CODE = re.compile(r"[a-z][a-z0-9_]{2,59}")


@dataclass(frozen=True)
class Rule:
    """One rule in force: shipped (``unit_id`` None, the whole city) or from the portal."""

    code: str
    version: int
    kind: str
    check: str
    params: Mapping[str, Any]
    level: str
    title: str
    fix: str
    unit_id: int | None = None  # the area it covers (None: the city)
    unit_path: str | None = None
    shipped: bool = False
    active: bool = True
    created_by: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def household(self) -> bool:
        return CHECKS[self.check].household

    @property
    def timely(self) -> bool:
        return CHECKS[self.check].timely


@cache
def shipped_rules() -> tuple[Rule, ...]:
    """The rules the kernel ships, each at version 1."""
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    rules = []
    for raw in data["rules"]:
        values = clean_rule(raw)
        rules.append(Rule(version=1, shipped=True, **values))
    return tuple(rules)


def clean_rule(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a rule, checked; :class:`ValidationFailed` names the first bad one."""
    errors: list[dict[str, str]] = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        bad("code", "规则编码应为 3–60 个小写字母、数字或下划线，以字母开头")
    check = raw.get("check")
    spec = CHECKS.get(check) if isinstance(check, str) else None
    if spec is None:
        bad("check", "请选择检查方式：" + "、".join(CHECKS))
    kind = raw.get("kind", spec.kind if spec else None)
    if not isinstance(kind, str) or kind not in KINDS:
        bad("kind", "规则类别应为 " + "、".join(KINDS))
    elif spec is not None and kind != spec.kind:
        bad("kind", f"检查方式 {spec.name} 属于“{KINDS[spec.kind]}”类")
    level = raw.get("level")
    if not isinstance(level, str) or level not in LEVELS:
        bad("level", "级别应为 error（错误）或 warning（提醒）")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 80:
        bad("title", "请填写规则名称（不超过 80 个字）")
    fix = raw.get("fix")
    if not isinstance(fix, str) or not fix.strip() or len(fix.strip()) > 500:
        bad("fix", "请用中文说明如何改正（不超过 500 个字）")
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        bad("params", "参数应为对象")
    elif spec is not None:
        problem = jsonschema.Draft202012Validator(spec.schema).iter_errors(dict(params))
        first = next(iter(sorted(problem, key=lambda e: list(e.path))), None)
        if first is not None:
            where = ".".join(str(p) for p in first.path)
            field_name, problem_text = f"params.{where}" if where else "params", in_chinese(first)
            bad(field_name, f"参数 {where}：{problem_text}" if where else f"参数{problem_text}")
    if errors:
        raise ValidationFailed(errors[0]["message"], field=errors[0]["field"], details=errors)
    assert spec is not None and isinstance(code, str)
    assert isinstance(title, str) and isinstance(fix, str) and isinstance(params, Mapping)
    return {
        "code": code,
        "kind": spec.kind,
        "check": spec.name,
        "params": dict(params),
        "level": str(level),
        "title": title.strip(),
        "fix": fix.strip(),
    }


def from_version(row: RuleVersion, unit_path: str | None) -> Rule:
    """The rule a stored version describes (``unit_path`` None when it covers the city)."""
    return Rule(
        code=row.code,
        version=row.version,
        kind=row.kind,
        check=row.check,
        params=dict(row.params),
        level=row.level,
        title=row.title,
        fix=row.fix,
        unit_id=row.unit_id if unit_path is not None else None,
        unit_path=unit_path,
        shipped=False,
        active=row.active,
        created_by=row.created_by,
    )


def effective_rules(stored: Iterable[Rule], *, include_inactive: bool = False) -> list[Rule]:
    """The shipped rules overlaid by the newest stored version of each code."""
    by_code: dict[str, Rule] = {rule.code: rule for rule in shipped_rules()}
    for rule in sorted(stored, key=lambda r: r.version):
        by_code[rule.code] = rule
    found = list(by_code.values())
    return found if include_inactive else [r for r in found if r.active]
