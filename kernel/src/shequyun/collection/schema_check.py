"""Is an uploaded form acceptable? Every problem of a schema or its UI layer, before storing it.

Schemas come from outside (the API), so the checks assume hostile input: the nesting depth and
the size are measured first, without recursion, and nothing recursive runs (json.dumps, the
meta-schema, our walk) until both are within bounds. After that the answer lists every problem,
each with a JSON pointer into the schema (or the UI layer) and a Chinese message.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema

from . import fields
from .fields import FORMATS, SAFE_NAME
from .schema_patterns import pattern_problem

__all__ = ["SUPPORTED", "SchemaProblem", "check_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SUPPORTED = frozenset(
    {
        *("type", "properties", "required", "additionalProperties", "enum", "const"),
        *("minLength", "maxLength", "pattern", "format"),
        *("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        *("items", "minItems", "maxItems", "uniqueItems"),
        *("title", "description", "default", "examples", "$schema", "$id", "$defs", "$ref"),
    }
)
"""The keywords a form may use; ``x-`` keys are ignored, anything else is a problem."""

_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})
_SCALAR_ONLY = ("enum", "const")
_REF = re.compile(r"#/\$defs/([A-Za-z_][A-Za-z0-9_-]{0,63})")
_DEF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_REMOTE_ID = re.compile(r"(?i)(https?|ftp|file|wss?):|//")
_META = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One problem: where (a JSON pointer, ``""`` for the whole document) and what (Chinese)."""

    path: str
    message: str


def check_schema(
    schema: object,
    *,
    max_bytes: int = 256_000,
    max_depth: int = 10,
    max_fields: int = 1000,
    max_enum: int = 1000,
    max_pattern_length: int = 200,
) -> list[SchemaProblem]:
    """Every problem that keeps ``schema`` from being stored as a form; ``[]`` when none.

    ``max_depth`` counts nested fields (a table in a table is 4 levels: property, items,
    property, items) and each ``$ref`` followed; ``max_fields`` counts every property, those in
    tables and behind ``$ref`` included, as often as they are used. A schema nested or sized
    beyond bounds gets that one problem: the rest is not looked at.
    """
    if not isinstance(schema, dict):
        return [SchemaProblem("", "表单结构应为 JSON 对象")]
    gate, text = size_gate(schema, max_bytes, json_depth=4 * max_depth + 8)
    if gate:
        return gate
    # The meta-schema costs ~0.3 ms a field, and a form is checked on upload, on publishing and
    # when its validator is compiled: the same text gets the same answer.
    key = (text, max_depth, max_fields, max_enum, max_pattern_length)
    cached = _CHECKED.get(key)
    if cached is None:
        cached = tuple(_problems(schema, max_depth, max_fields, max_enum, max_pattern_length))
        if len(_CHECKED) >= 32:
            _CHECKED.clear()
        _CHECKED[key] = cached
    return list(cached)


_CHECKED: dict[tuple[bytes, int, int, int, int], tuple[SchemaProblem, ...]] = {}


def _problems(
    schema: dict[str, Any], max_depth: int, max_fields: int, max_enum: int, max_pattern: int
) -> list[SchemaProblem]:
    problems = [
        SchemaProblem(json_pointer(e.absolute_path), _meta_message(e)) for e in _metaerrors(schema)
    ]
    problems += _Subset(schema, max_enum, max_pattern).problems()
    problems += _expanded(schema, max_depth, max_fields)
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        problems.append(
            SchemaProblem("", '表单最外层应为 "type": "object"，并在 properties 中列出字段')
        )
    elif not schema["properties"]:
        problems.append(SchemaProblem("/properties", "表单至少需要一个字段"))
    return list(dict.fromkeys(problems))


# -- gate: depth and size, without recursion -------------------------------------------------


def size_gate(
    document: object, max_bytes: int, *, json_depth: int
) -> tuple[list[SchemaProblem], bytes]:
    """Too deep, too big, or not JSON at all: the one problem that stops everything else.

    Without a problem, the document's JSON text (UTF-8) comes back with the empty list.
    """
    size = 0
    stack: list[tuple[object, str, int]] = [(document, "", 1)]
    while stack:
        node, pointer, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > json_depth:
                return [SchemaProblem(pointer, f"嵌套超过 {json_depth} 层，不予处理")], b""
            entries = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in entries:
                if isinstance(node, dict) and not isinstance(key, str):
                    return [SchemaProblem(pointer, "对象的键应为字符串")], b""
                size += len(key) + 4 if isinstance(key, str) else 1
                if size > max_bytes:
                    break
                stack.append((value, f"{pointer}/{escape_pointer(str(key))}", depth + 1))
        elif isinstance(node, str):
            size += len(node) + 2
        elif isinstance(node, float) and not math.isfinite(node):
            return [SchemaProblem(pointer, "数值应为有限数")], b""
        elif not (node is None or isinstance(node, bool | int | float)):
            return [SchemaProblem(pointer, "不是 JSON 值")], b""
        if size > max_bytes:  # a lower bound of the JSON text's size, so this stops early
            return [SchemaProblem("", f"超过 {max_bytes:,} 字节的大小上限")], b""
    try:
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):
        return [SchemaProblem("", "不是合法的 JSON")], b""
    if len(encoded) > max_bytes:
        return [
            SchemaProblem("", f"超过 {max_bytes:,} 字节的大小上限（{len(encoded):,} 字节）")
        ], b""
    return [], encoded


# -- the meta-schema -------------------------------------------------------------------------


def _metaerrors(schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    # The meta-schema reads the form as data: the form's own $ref values are not followed.
    try:
        yield from _META.iter_errors(schema)
    except RecursionError:  # pragma: no cover - the gate keeps nesting far below the limit
        yield jsonschema.ValidationError("nested too deeply", validator="depth")


def _meta_message(error: jsonschema.ValidationError) -> str:
    where = error.absolute_path[-1] if error.absolute_path else None
    expected = error.validator_value
    if where == "type" and error.validator in ("anyOf", "enum", "type"):
        return "type 应为 string、number、integer、boolean、object、array、null 之一或它们的列表"
    if error.validator == "type" and isinstance(expected, str):
        return f"应为{fields.TYPE_NAMES.get(expected, expected)}"
    if error.validator == "minimum":
        return f"不能小于 {expected}"
    if error.validator == "exclusiveMinimum":
        return f"应大于 {expected}"
    if error.validator == "uniqueItems":
        return "不能有重复项"
    if error.validator == "minItems":
        return f"至少需要 {expected} 项"
    detail = error.message if len(error.message) <= 160 else error.message[:160] + "…"
    return f"不符合 JSON Schema 2020-12 的规定（{detail}）"


# -- the subset we accept, each schema location once ------------------------------------------


class _Subset:
    """Keywords, names, references, choices and patterns, at every location of the schema."""

    def __init__(self, schema: dict[str, Any], max_enum: int, max_pattern_length: int) -> None:
        self.schema = schema
        self.max_enum = max_enum
        self.max_pattern_length = max_pattern_length
        defs = schema.get("$defs")
        self.defs = defs if isinstance(defs, dict) else {}
        self.found: list[SchemaProblem] = []

    def problems(self) -> list[SchemaProblem]:
        pending: deque[tuple[object, str, str]] = deque([(self.schema, "", "root")])
        for name, definition in self.defs.items():
            if not _DEF_NAME.fullmatch(name):
                self.add(f"/$defs/{escape_pointer(name)}", "定义名只能用英文字母、数字、_ 和 -")
            pending.append((definition, f"/$defs/{escape_pointer(name)}", "def"))
        while pending:
            node, pointer, role = pending.popleft()
            if not isinstance(node, dict):
                if isinstance(node, bool):
                    self.add(pointer, "字段定义应为对象，不能是 true 或 false")
                continue
            self.location(node, pointer, role)
            properties = node.get("properties")
            if isinstance(properties, dict):
                for name, child in properties.items():
                    pending.append((child, f"{pointer}/properties/{escape_pointer(name)}", "field"))
            if "items" in node:
                pending.append((node["items"], f"{pointer}/items", "items"))
        return self.found

    def add(self, pointer: str, message: str) -> None:
        self.found.append(SchemaProblem(pointer, message))

    def location(self, node: dict[str, Any], at: str, role: str) -> None:
        for key in node:
            if key.startswith("x-"):
                continue
            if key not in SUPPORTED:
                self.add(f"{at}/{escape_pointer(key)}", f"不支持的关键字 {key}")
            elif key in _ROOT_ONLY and role != "root":
                self.add(f"{at}/{escape_pointer(key)}", f"{key} 只能写在表单最外层")
        if role == "root":
            self.root_keywords(node)
        types = node.get("type")
        types = (
            {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
        )
        if role in ("field", "items", "def") and not (
            {"type", "enum", "const", "$ref"} & node.keys()
        ):
            self.add(at, "字段需要写明 type（或 enum、const、$ref）")
        if "array" in types and "items" not in node:
            self.add(at, "列表字段需要写明 items")
        if "object" in types and role != "root" and "properties" not in node and "$ref" not in node:
            self.add(at, "对象字段需要在 properties 中列出它的字段")
        self.names_and_required(node, at)
        if "additionalProperties" in node and node["additionalProperties"] is not False:
            self.add(f"{at}/additionalProperties", "additionalProperties 只能为 false（或不写）")
        if isinstance(node.get("items"), bool):
            self.add(f"{at}/items", "items 应为字段定义，不能是 true 或 false")
        for keyword in _SCALAR_ONLY:
            if keyword in node:
                self.scalars(node[keyword], f"{at}/{keyword}", keyword)
        if "$ref" in node:
            self.ref(node["$ref"], f"{at}/$ref")
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt not in FORMATS:
            self.add(f"{at}/format", f"不支持的格式 {fmt}，可用：{'、'.join(FORMATS)}")
        if isinstance(node.get("pattern"), str):
            problem = pattern_problem(node["pattern"], self.max_pattern_length)
            if problem:
                self.add(f"{at}/pattern", problem)
        for low, high in (
            ("minLength", "maxLength"),
            ("minItems", "maxItems"),
            ("minimum", "maximum"),
        ):
            lo, hi = node.get(low), node.get(high)
            if is_number(lo) and is_number(hi) and lo > hi:  # type: ignore[operator]
                self.add(f"{at}/{low}", f"{low} 大于 {high}，没有值能通过")

    def root_keywords(self, node: dict[str, Any]) -> None:
        if "$schema" in node and node["$schema"] not in (DRAFT, DRAFT + "#"):
            self.add("/$schema", f"只支持 JSON Schema 2020-12（{DRAFT}）")
        if isinstance(node.get("$id"), str) and _REMOTE_ID.match(node["$id"]):
            self.add("/$id", "$id 不能是网络地址")

    def names_and_required(self, node: dict[str, Any], at: str) -> None:
        properties = node.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        for name in properties:
            if not SAFE_NAME.fullmatch(name):
                self.add(
                    f"{at}/properties/{escape_pointer(name)}",
                    f"字段名 {name[:80]} 不合规：只能用英文字母、数字和 _，不以数字开头，"
                    "最长 64 个字符（它会成为导出的列名）",
                )
        required = node.get("required")
        if isinstance(required, list) and "$ref" not in node:
            for index, name in enumerate(required):
                if isinstance(name, str) and name not in properties:
                    self.add(
                        f"{at}/required/{index}", f"必填字段 {name[:80]} 未在 properties 中定义"
                    )

    def scalars(self, value: object, at: str, keyword: str) -> None:
        values = value if keyword == "enum" and isinstance(value, list) else [value]
        if keyword == "enum" and isinstance(value, list):
            if not value:
                self.add(at, "选项不能为空")
            if len(value) > self.max_enum:
                self.add(at, f"选项不能超过 {self.max_enum:,} 个（现有 {len(value):,} 个）")
                return
        for index, item in enumerate(values):
            if isinstance(item, dict | list):
                where = f"{at}/{index}" if keyword == "enum" else at
                self.add(where, "选项只能是文字、数字、true/false 或 null")

    def ref(self, ref: object, at: str) -> None:
        if not isinstance(ref, str):
            return
        found = _REF.fullmatch(ref)
        if found is None:
            remote = not ref.startswith("#")
            self.add(at, "不允许引用外部文件（远程 $ref）" if remote else "只能引用 #/$defs/名称")
        elif found[1] not in self.defs:
            self.add(at, f"引用的定义 {found[1]} 不存在")


# -- depth and field count, with $ref followed ------------------------------------------------


def _expanded(schema: dict[str, Any], max_depth: int, max_fields: int) -> list[SchemaProblem]:
    """Depth, field count and cycles of the form as used, each ``$ref`` expanded where it is."""
    defs = schema.get("$defs")
    defs = defs if isinstance(defs, dict) else {}
    problems: list[SchemaProblem] = []
    count = 0
    stack: list[tuple[object, str, int, tuple[str, ...]]] = [(schema, "", 0, ())]
    while stack:
        node, at, depth, chain = stack.pop()
        if not isinstance(node, dict):
            continue
        if depth > max_depth:
            problems.append(SchemaProblem(at, f"字段嵌套超过 {max_depth} 层（每个 $ref 也算一层）"))
            continue
        properties = node.get("properties")
        if isinstance(properties, dict):
            count += len(properties)
            if count > max_fields:
                problems.append(
                    SchemaProblem("", f"字段总数超过 {max_fields:,} 个（含表格中的和引用展开后的）")
                )
                break
            for name, child in properties.items():
                stack.append((child, f"{at}/properties/{escape_pointer(name)}", depth + 1, chain))
        if "items" in node:
            stack.append((node["items"], f"{at}/items", depth + 1, chain))
        ref = node.get("$ref")
        found = _REF.fullmatch(ref) if isinstance(ref, str) else None
        if found and found[1] in defs:
            name = found[1]
            if name in chain:
                cycle = " → ".join((*chain[chain.index(name) :], name))
                problems.append(SchemaProblem(f"{at}/$ref", f"循环引用：{cycle}"))
            else:
                stack.append(
                    (defs[name], f"/$defs/{escape_pointer(name)}", depth + 1, (*chain, name))
                )
    return problems


# -- helpers ----------------------------------------------------------------------------------


def kind_title(kind: str) -> str:
    return next((k.title for k in fields.KINDS if k.name == kind), "此类")


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def json_pointer(path: Any) -> str:
    return "".join(f"/{escape_pointer(str(part))}" for part in path)
