"""Read policy files (YAML), check them against the schema and their own references.

A problem is reported as :class:`PolicyError` with every message found, each naming where in
the file it is (``conditions.all[1].age_min``), in Chinese, so that a district editing a policy
in the portal sees what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .model import (
    Band,
    Benefit,
    DatedValue,
    Document,
    Group,
    Leaf,
    Node,
    Parameter,
    Policy,
    Receiving,
)
from .reasons import default_reasons
from .schema import POLICY_SCHEMA

__all__ = ["SHIPPED", "PolicyError", "load_file", "load_text", "parse", "shipped_policies"]

SHIPPED = Path(__file__).resolve().parent.parent / "policies"
_VALIDATOR = jsonschema.Draft202012Validator(
    POLICY_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


class PolicyError(ValueError):
    """A policy file that cannot be used; ``problems`` lists ``(where, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))


def shipped_policies() -> list[Policy]:
    """The policies that come with the plugin, in file-name order."""
    return [load_file(path) for path in sorted(SHIPPED.glob("*.yaml"))]


def load_file(path: Path) -> Policy:
    return load_text(path.read_text(encoding="utf-8"), where=path.name)


def load_text(text: str, *, where: str = "policy") -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError([(where, f"不是有效的 YAML：{exc}")]) from None
    except ValueError as exc:  # a date YAML's pattern matches but the calendar lacks (2026-13-45)
        raise PolicyError([(where, f"不是有效的 YAML：日期或时间无效（{exc}）")]) from None
    except RecursionError:
        raise PolicyError([(where, "不是有效的 YAML：嵌套层次过深")]) from None
    if not isinstance(data, dict):
        raise PolicyError([(where, "政策文件应为一个映射（键: 值）")])
    return parse(data)


def _plain(value: Any) -> Any:
    """YAML reads dates as ``date``; the schema wants the ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse(raw: Mapping[str, Any]) -> Policy:
    """Validate ``raw`` (a policy file's content) and build the policy."""
    data = _plain(dict(raw))
    problems = []
    for error in sorted(_VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        for deep in _deepest(error):
            where = ".".join(str(p) for p in deep.absolute_path) or "(policy)"
            if all(where != seen for seen, _ in problems):
                problems.append((where, _message(deep)))
    if problems:
        raise PolicyError(problems)
    documents = {
        d["id"]: Document(
            id=d["id"],
            title=d["title"],
            issuer=d["issuer"],
            number=d.get("number", ""),
            effective=_day(d.get("effective")),
            url=d.get("url", ""),
            note=d.get("note", ""),
        )
        for d in data["documents"]
    }
    parameters = {
        name: Parameter(
            name=name,
            title=spec["title"],
            unit=spec["unit"],
            values=tuple(
                sorted(
                    (
                        DatedValue(
                            start=date.fromisoformat(v["from"]),
                            document=v["document"],
                            value=v.get("value"),
                            bands=tuple(
                                Band(b["min_age"], b.get("max_age"), b["value"])
                                for b in v.get("bands", ())
                            ),
                        )
                        for v in spec["values"]
                    ),
                    key=lambda dv: dv.start,
                )
            ),
        )
        for name, spec in data.get("parameters", {}).items()
    }
    seen: set[str] = set()
    conditions = _node(data["conditions"], parameters, "conditions", seen, problems)
    clue = _node(data["clue"], parameters, "clue", seen, problems) if "clue" in data else None
    if clue is not None and any(leaf.kind == "confirm" for leaf in _clue_leaves(clue)):
        problems.append(("clue", "线索只能是数据可以判断的条件，不能是 confirm"))
    benefit = Benefit(
        kind=data["benefit"]["kind"],
        text=data["benefit"]["text"],
        parameter=data["benefit"].get("parameter"),
        per=data["benefit"].get("per", "month"),
    )
    problems += _references(data, documents, parameters, benefit)
    if problems:
        raise PolicyError(problems)
    receiving = data["receiving"]
    return Policy(
        id=data["id"],
        version=data.get("version", 1),
        name=data["name"],
        name_en=data.get("name_en", ""),
        issuer=data["issuer"],
        level=data["level"],
        category=data["category"],
        summary=data.get("summary", ""),
        documents=documents,
        document=data["document"],
        effective_from=date.fromisoformat(data["effective"]["from"]),
        effective_until=_day(data["effective"].get("until")),
        conditions=conditions,
        benefit=benefit,
        parameters=parameters,
        receiving=Receiving(
            tags=tuple(receiving.get("tags", ())),
            attributes=tuple(receiving.get("attributes", ())),
            recorded=bool(receiving.get("recorded", False)),
        ),
        clue=clue,
        cases=tuple(data.get("cases", ())),
        source=data,
    )


def _node(
    raw: Mapping[str, Any],
    parameters: Mapping[str, Parameter],
    where: str,
    seen: set[str],
    problems: list[tuple[str, str]],
) -> Node:
    for op in ("all", "any"):
        if op in raw:
            return Group(
                op,
                tuple(
                    _node(child, parameters, f"{where}.{op}[{i}]", seen, problems)
                    for i, child in enumerate(raw[op])
                ),
            )
    if "not" in raw:
        return Group("not", (_node(raw["not"], parameters, f"{where}.not", seen, problems),))
    kind = next(k for k in raw if k not in ("id", "label", "reason"))
    leaf_id = raw["id"]
    if leaf_id in seen:
        problems.append((f"{where}.id", f"条件编号 {leaf_id} 重复"))
    seen.add(leaf_id)
    args = raw[kind] if isinstance(raw[kind], dict) else {"value": raw[kind]}
    label = raw.get("label", "")
    if kind == "attribute" and not label:
        problems.append((f"{where}.label", "属性条件需要中文名称（label）"))
    reasons = {**default_reasons(kind, args, label, parameters), **raw.get("reason", {})}
    return Leaf(id=leaf_id, kind=kind, args=args, reasons=reasons, label=label)


def _clue_leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.children for leaf in _clue_leaves(child)]


def _references(
    data: Mapping[str, Any],
    documents: Mapping[str, Document],
    parameters: Mapping[str, Parameter],
    benefit: Benefit,
) -> list[tuple[str, str]]:
    problems = []
    if data["document"] not in documents:
        problems.append(("document", f"未在 documents 中列出文件 {data['document']}"))
    for name, parameter in parameters.items():
        for i, dated in enumerate(parameter.values):
            if dated.document not in documents:
                problems.append(
                    (f"parameters.{name}.values[{i}].document", f"未列出文件 {dated.document}")
                )
    if benefit.kind == "amount":
        if benefit.parameter is None:
            problems.append(("benefit.parameter", "金额类待遇需指明参数"))
        elif benefit.parameter not in parameters:
            problems.append(("benefit.parameter", f"没有名为 {benefit.parameter} 的参数"))
    return problems


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _deepest(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """Inside ``oneOf`` (a condition), the errors deepest in the file say what is wrong."""
    if error.validator != "oneOf" or not error.context:
        return [error]
    depth = len(error.absolute_path)
    deeper = [e for e in error.context if len(e.absolute_path) > depth]
    if not deeper:
        return [error]
    return [found for e in deeper for found in _deepest(e)]


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return f"缺少必填项：{error.message.split(' ')[0]}"
    if error.validator == "additionalProperties":
        return f"不认识的字段：{error.message}"
    if error.validator == "oneOf" and list(error.absolute_path)[-1:] != ["values"]:
        return "条件写法不正确：应为 all / any / not 或一种已知条件（age_min、tag、confirm …）"
    if error.validator in ("enum", "pattern", "format", "type", "minimum", "maximum"):
        return f"取值不正确：{error.message}"
    return error.message


def ids(policies: Iterable[Policy]) -> list[str]:
    return [p.id for p in policies]
