r"""Submissions checked against a form: compiled once into Python, every error in Chinese.

``compile_validator`` writes Python source for one form, as fastjsonschema does, so a
submission is checked by straight-line code with the schema's limits, choices and patterns
already in place, not by interpreting the schema on every call. Two functions are generated from
the same schema: one answers yes or no at the first failure (``is_valid``), the other collects
every error with its path (``errors``, which runs the first one before it, so a valid document
costs the same either way).

Within the keywords ``schema_check`` accepts, a document is valid exactly when jsonschema's
``Draft202012Validator`` (with ``fields.format_checker()``) says so, and every failing location
it reports is reported here, except that ``pattern`` follows ECMA-262 where Python's ``re``
differs (``\d`` is ``[0-9]``, ``$`` does not match before a final newline): see forms.md.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import fields
from .fields import FORMATS, SAFE_NAME, TYPE_NAMES, describe, tag, unique
from .schema_check import SchemaProblem, check_schema
from .ui_check import check_ui
from .visibility import MISSING, VisibilityPlan, is_shown


@dataclass(frozen=True, slots=True)
class FieldError:
    """One error in a submission.

    ``path`` is for people and the API (``members[2].age``, ``address.room``, ``""`` for the
    whole document), ``pointer`` the JSON pointer to the same place (``/members/2/age``),
    ``field`` the field's dotted name as the UI layer knows it (``members.age``), ``keyword``
    the schema keyword that failed (``required``, ``type``, ``maxLength``…).
    """

    path: str
    pointer: str
    field: str
    message: str
    keyword: str


class InvalidForm(ValueError):
    """The form did not pass ``check_schema`` / ``check_ui``; ``problems`` says why."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        self.problems = problems
        super().__init__("；".join(f"{p.path or '/'}：{p.message}" for p in problems[:5]))


class Validator:
    """A form compiled for checking submissions; build it with :func:`compile_validator`."""

    __slots__ = ("_collect", "_plan", "is_valid", "source")

    def __init__(
        self,
        valid: Callable[[object], bool],
        collect: Callable[[object, list[FieldError]], object],
        source: str,
        plan: VisibilityPlan,
    ) -> None:
        self.is_valid: Callable[[object], bool] = valid
        """Whether ``data`` is a valid submission: stops at the first error."""
        self._collect = collect
        self._plan = plan
        self.source = source
        """The generated Python code (both functions), for reading when in doubt."""

    def errors(self, data: object) -> list[FieldError]:
        """Every error in ``data``, in document order; ``[]`` when it is valid."""
        if self.is_valid(data):
            return []
        found: list[FieldError] = []
        self._collect(data, found)
        return found

    def strip_hidden(self, data: object) -> object:
        """A copy of ``data`` without the values of fields that ``visible_if`` hides.

        ``errors`` already ignores those values (and does not require the fields); store what
        this returns, so an answer given before the cadre changed their mind is not kept. A
        form without ``visible_if`` hides nothing: ``data`` itself is returned, not copied
        (copying a 250-question answer on every submission cost more than checking it).
        """
        if not self._plan.conditions:
            return data
        return self._plan.strip(data, "")


def compile_validator(schema: object, ui: object = None) -> Validator:
    """Compile a form's schema (and UI layer, for ``visible_if``) into a :class:`Validator`.

    Raises :class:`InvalidForm` when ``check_schema`` (or ``check_ui``, for a non-empty
    ``ui``) finds problems: only checked forms are turned into code.
    """
    problems = check_schema(schema)
    if not problems and ui:
        problems = check_ui(ui, schema)
    if problems or not isinstance(schema, dict):
        raise InvalidForm(problems)
    plan = VisibilityPlan(schema, ui if isinstance(ui, dict) else {})
    namespace: dict[str, Any] = dict(_RUNTIME)
    sources = []
    for fast in (True, False):
        writer = _Writer(schema, plan, fast=fast)
        sources.append(writer.write())
        namespace.update(writer.constants)
    source = "\n\n".join(sources)
    exec(compile(source, "<form validator>", "exec"), namespace)
    return Validator(namespace["is_valid"], namespace["collect"], source, plan)


# -- the code ---------------------------------------------------------------------------------


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _not_multiple(value: Any, factor: Any) -> bool:
    """``multipleOf`` failing, computed as jsonschema computes it."""
    if isinstance(factor, float):
        quotient = value / factor
        try:
            return bool(int(quotient) != quotient)
        except OverflowError:
            return (Fraction(value) / Fraction(factor)).denominator != 1
    return bool(value % factor)


def _extra(
    errors: list[FieldError], value: dict[str, Any], known: frozenset[str], at: tuple[str, str, str]
) -> None:
    path, pointer, field = at
    for key in value:
        if key not in known:
            escaped = key.replace("~", "~0").replace("/", "~1")
            errors.append(
                FieldError(
                    f"{path}.{key}" if path else key,
                    f"{pointer}/{escaped}",
                    f"{field}.{key}" if field else key,
                    "表单中没有这个字段",
                    "additionalProperties",
                )
            )


_RUNTIME: dict[str, Any] = {
    "__builtins__": {
        "isinstance": isinstance,
        "len": len,
        "type": type,
        "int": int,
        "float": float,
        "str": str,
        "dict": dict,
        "list": list,
        "enumerate": enumerate,
        "frozenset": frozenset,
    },
    "_FE": FieldError,
    "MISSING": MISSING,
    "_is_integer": _is_integer,
    "_is_number": _is_number,
    "_not_multiple": _not_multiple,
    "_extra": _extra,
    "is_shown": is_shown,
    "_tag": tag,
    "_unique": unique,
}

_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "integer": "(type({v}) is int or _is_integer({v}))",
    "number": "(type({v}) is int or type({v}) is float or _is_number({v}))",
    "boolean": "({v} is True or {v} is False)",
    "null": "{v} is None",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
}
_GROUPS = {
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "array": ("items", "minItems", "maxItems", "uniqueItems"),
    "object": ("properties", "required", "additionalProperties"),
}
_Segment = tuple[str, str]  # ("key", name) or ("index", loop variable)


class _Writer:
    """Writes ``is_valid(data)`` (``fast``) or ``collect(data, E)`` for one schema."""

    def __init__(self, schema: dict[str, Any], plan: VisibilityPlan, *, fast: bool) -> None:
        self.schema = schema
        self.defs: Mapping[str, Any] = schema.get("$defs") or {}
        self.plan = plan
        self.fast = fast
        self.prefix = "f" if fast else "c"
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.counter = 0

    def write(self) -> str:
        self.lines.append("def is_valid(data):" if self.fast else "def collect(data, E):")
        self.node(self.schema, "data", [], "", 1)
        self.emit(1, "return True" if self.fast else "return E")
        return "\n".join(self.lines)

    # -- plumbing

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def const(self, value: Any) -> str:
        self.counter += 1
        name = f"_{self.prefix}k{self.counter}"
        self.constants[name] = value
        return name

    def number(self, value: Any) -> str:
        """A bound from the schema as a literal in the code (a constant if it is no number)."""
        if type(value) in (int, float) and abs(value) < float("inf"):
            return repr(value)
        return self.const(value)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def block(self, depth: int, header: str, body: Callable[..., None], *args: Any) -> None:
        """``header`` and the lines ``body(*args)`` emits below it (``pass`` when none)."""
        self.emit(depth, header)
        before = len(self.lines)
        body(*args)
        if len(self.lines) == before:
            self.emit(depth + 1, "pass")

    def fail(self, depth: int, at: list[_Segment], field: str, keyword: str, message: str) -> None:
        if self.fast:
            self.emit(depth, "return False")
            return
        path, pointer = self.where(at)
        message_name = self.const(message)
        self.emit(
            depth, f"E.append(_FE({path}, {pointer}, {field!r}, {message_name}, {keyword!r}))"
        )

    def where(self, at: list[_Segment]) -> tuple[str, str]:
        path, pointer = "", ""
        for kind, part in at:
            if kind == "key":
                if not SAFE_NAME.fullmatch(part):  # names are written into the code
                    raise ValueError(f"unsafe field name {part!r}")
                path += f".{part}" if path else part
                pointer += f"/{part}"
            else:
                path += f"[{{{part}}}]"
                pointer += f"/{{{part}}}"
        dynamic = any(kind == "index" for kind, _ in at)
        return (f"f{path!r}", f"f{pointer!r}") if dynamic else (repr(path), repr(pointer))

    # -- one schema location

    def node(
        self, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        ref = schema.get("$ref")
        if isinstance(ref, str):  # acyclic and bounded in depth and size: check_schema saw to it
            self.node(self.defs[ref.rsplit("/", 1)[-1]], v, at, field, d)
        declared = schema.get("type")
        types = [declared] if isinstance(declared, str) else list(declared or [])
        if "number" in types and "integer" in types:
            types.remove("integer")
        if not types:
            self.groups(schema, v, at, field, d, None)
            return
        test = " or ".join(_TYPE_TESTS[t].format(v=v) for t in types)
        names = "或".join(TYPE_NAMES[t] for t in types)
        message = "提交的数据应为 JSON 对象" if not at else f"应为{names}"
        header = len(self.lines)
        self.emit(d, f"if {test}:")
        self.groups(schema, v, at, field, d + 1, types)
        if len(self.lines) == header + 1:  # nothing but the type to check
            self.lines[header] = "    " * d + f"if not ({test}):"
        else:
            self.emit(d, "else:")
        self.fail(d + 1, at, field, "type", message)

    def groups(
        self,
        schema: Mapping[str, Any],
        v: str,
        at: list[_Segment],
        field: str,
        d: int,
        types: list[str] | None,
    ) -> None:
        for group, keywords in _GROUPS.items():
            if not any(k in schema for k in keywords):
                continue
            covers = {"number": {"number", "integer"}}.get(group, {group})
            if types is None or len(types) > 1:
                if types is not None and not covers & set(types):
                    continue
                test = _TYPE_TESTS[group].format(v=v)
                self.block(d, f"if {test}:", self.keywords, group, schema, v, at, field, d + 1)
            elif covers & set(types):
                self.keywords(group, schema, v, at, field, d)
        if "enum" in schema:
            self.enum(schema["enum"], v, at, field, d, only_strings=types == ["string"])
        if "const" in schema:
            self.emit(d, f"if _tag({v}) != {self.const(tag(schema['const']))}:")
            self.fail(d + 1, at, field, "const", f"应为 {describe(schema['const'])}")

    def keywords(
        self, group: str, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        getattr(self, f"_{group}")(schema, v, at, field, d)

    def _string(
        self, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        if "minLength" in schema:
            low = schema["minLength"]
            self.emit(d, f"if len({v}) < {self.number(low)}:")
            self.fail(
                d + 1,
                at,
                field,
                "minLength",
                "不能为空" if low == 1 else f"不能少于 {describe(low)} 个字",
            )
        if "maxLength" in schema:
            self.emit(d, f"if len({v}) > {self.number(schema['maxLength'])}:")
            self.fail(
                d + 1, at, field, "maxLength", f"不能超过 {describe(schema['maxLength'])} 个字"
            )
        if "pattern" in schema:
            search = self.const(fields.compile_pattern(schema["pattern"]))
            self.emit(d, f"if not {search}({v}):")
            self.fail(d + 1, at, field, "pattern", "格式不正确")
        check = FORMATS.get(schema.get("format", ""))
        if check is not None:
            name = self.const(check)
            if self.fast:
                self.emit(d, f"if {name}({v}) is not None:")
                self.emit(d + 1, "return False")
            else:
                message = self.fresh("m")
                self.emit(d, f"{message} = {name}({v})")
                self.emit(d, f"if {message} is not None:")
                path, pointer = self.where(at)
                self.emit(
                    d + 1, f"E.append(_FE({path}, {pointer}, {field!r}, {message}, 'format'))"
                )

    def _number(
        self, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        for keyword, operator, words in (
            ("minimum", "<", "不能小于"),
            ("maximum", ">", "不能大于"),
            ("exclusiveMinimum", "<=", "应大于"),
            ("exclusiveMaximum", ">=", "应小于"),
        ):
            if keyword in schema:
                self.emit(d, f"if {v} {operator} {self.number(schema[keyword])}:")
                self.fail(d + 1, at, field, keyword, f"{words} {describe(schema[keyword])}")
        if "multipleOf" in schema:
            factor = schema["multipleOf"]
            if isinstance(factor, int):
                self.emit(d, f"if {v} % {self.number(factor)}:")
            else:
                self.emit(d, f"if _not_multiple({v}, {self.number(factor)}):")
            self.fail(d + 1, at, field, "multipleOf", f"应为 {describe(factor)} 的整数倍")

    def _array(
        self, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        if "minItems" in schema:
            self.emit(d, f"if len({v}) < {self.number(schema['minItems'])}:")
            self.fail(d + 1, at, field, "minItems", f"至少填写 {describe(schema['minItems'])} 项")
        if "maxItems" in schema:
            self.emit(d, f"if len({v}) > {self.number(schema['maxItems'])}:")
            self.fail(d + 1, at, field, "maxItems", f"最多填写 {describe(schema['maxItems'])} 项")
        if schema.get("uniqueItems") is True:
            self.emit(d, f"if not _unique({v}):")
            self.fail(d + 1, at, field, "uniqueItems", "不能有重复项")
        items = schema.get("items")
        if isinstance(items, Mapping):
            item = self.fresh("x")
            if self.fast:
                header, inner = f"for {item} in {v}:", at
            else:
                index = self.fresh("i")
                header, inner = f"for {index}, {item} in enumerate({v}):", [*at, ("index", index)]
            self.block(d, header, self.node, items, item, inner, field, d + 1)

    def _object(
        self, schema: Mapping[str, Any], v: str, at: list[_Segment], field: str, d: int
    ) -> None:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = schema.get("required") or []
        shown = self.visibility(v, field, d)
        for name, child in properties.items():
            if not isinstance(child, Mapping):
                continue
            value = self.fresh("v")
            inner: list[_Segment] = [*at, ("key", name)]
            child_field = f"{field}.{name}" if field else name
            depth = d
            if name in shown:
                self.emit(d, f"if {shown[name]}:")
                depth = d + 1
            self.emit(depth, f"{value} = {v}.get({name!r}, MISSING)")
            if name in required:
                self.emit(depth, f"if {value} is MISSING:")
                self.fail(depth + 1, inner, child_field, "required", "必填")
                header = "else:"
            else:
                header = f"if {value} is not MISSING:"
            self.block(depth, header, self.node, child, value, inner, child_field, depth + 1)
        for name in required:
            if isinstance(name, str) and name not in properties:
                self.emit(d, f"if {name!r} not in {v}:")
                self.fail(
                    d + 1,
                    [*at, ("key", name)],
                    f"{field}.{name}" if field else name,
                    "required",
                    "必填",
                )
        if schema.get("additionalProperties") is False:
            known = self.const(frozenset(properties))
            self.emit(d, f"if not {known}.issuperset({v}):")
            if self.fast:
                self.emit(d + 1, "return False")
            else:
                path, pointer = self.where(at)
                self.emit(d + 1, f"_extra(E, {v}, {known}, ({path}, {pointer}, {field!r}))")

    def visibility(self, v: str, field: str, d: int) -> dict[str, str]:
        """Emit whether each conditional field of this object is shown; their flags by name."""
        flags: dict[str, str] = {}
        for condition in self.plan.conditions.get(field, ()):
            sibling, flag = self.fresh("s"), self.fresh("shown")
            self.emit(d, f"{sibling} = {v}.get({condition.sibling!r}, MISSING)")
            test = (
                f"{sibling} is not MISSING and is_shown({sibling}, {self.const(condition.wanted)})"
            )
            if condition.sibling in flags:
                test = f"{flags[condition.sibling]} and {test}"
            self.emit(d, f"{flag} = {test}")
            flags[condition.name] = flag
        return flags

    def enum(
        self,
        choices: list[Any],
        v: str,
        at: list[_Segment],
        field: str,
        d: int,
        *,
        only_strings: bool,
    ) -> None:
        if all(isinstance(choice, str) for choice in choices):
            wanted = self.const(frozenset(choices))
            test = (
                f"{v} not in {wanted}"
                if only_strings
                else f"not (isinstance({v}, str) and {v} in {wanted})"
            )
        else:
            test = f"_tag({v}) not in {self.const(frozenset(tag(c) for c in choices))}"
        self.emit(d, f"if {test}:")
        shown = "、".join(describe(choice) for choice in choices[:20])
        more = f" 等 {len(choices)} 项" if len(choices) > 20 else ""
        self.fail(d + 1, at, field, "enum", f"应为以下选项之一：{shown}{more}")
