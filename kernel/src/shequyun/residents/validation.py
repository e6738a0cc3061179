"""Checking resident input from every source (API, portal, import, plugins) the same way.

:func:`clean_resident` turns raw values into typed ones and collects every problem as
``{"field", "message"}`` with a Chinese message, so a client learns all that is wrong at once.
Each message is an :class:`~shequyun.i18n.Message`: Chinese as a string (the API, the CLI, the
logs), in the visitor's language where the portal shows it through ``_()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shequyun_sdk import ValidationFailed

from ..i18n import Message
from ..schema_messages import in_chinese
from .dates import DATE_EXAMPLES, read_date
from .idnumber import IdNumberError, birth_date_of, gender_of, validate_id, validate_phone
from .models import GENDERS, REGISTRATIONS
from .vocabulary import ResidentVocabulary

__all__ = [
    "ADDRESS_FIELDS",
    "DATE_REFUSAL",
    "FIELD_TITLES",
    "Cleaned",
    "clean_resident",
    "field_title",
    "raise_if_invalid",
    "registration_code",
]

ADDRESS_FIELDS = ("compound", "building", "entrance", "room")
#: What a date that is not one (:func:`.dates.read_date`) is told, for every date field.
DATE_REFUSAL = Message(f"应为日期，如 {DATE_EXAMPLES}")
WRITABLE = {
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "registration",
    "unit_code",
    "address",
    "household_number",
    "tags",
    "attributes",
}
_GENDER_WORDS = {**{v: k for k, v in GENDERS.items()}, **{k: k for k in GENDERS}}
_REGISTRATION_WORDS = {**{v: k for k, v in REGISTRATIONS.items()}, **{k: k for k in REGISTRATIONS}}
MAX_TAGS = 30
_ACCEPTED = frozenset({*WRITABLE, "version"})
_ADDRESS_KEYS = frozenset(ADDRESS_FIELDS)
_ADDRESS_LIMITS = tuple(zip(ADDRESS_FIELDS, (60, 20, 20, 20), strict=True))


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, field_name: str, message: str) -> None:
        self.errors.append({"field": field_name, "message": message})


def _text(
    raw: Any, field_name: str, cleaned: Cleaned, *, max_length: int, required: bool
) -> str | None:
    if isinstance(raw, str):
        value = raw.strip()
    elif raw is None:
        value = ""
    elif isinstance(raw, int):
        value = str(raw)
    else:
        cleaned.error(field_name, Message("应为文字"))
        return None
    if not value:
        if required:
            cleaned.error(field_name, Message("不能为空"))
        return None
    if len(value) > max_length:
        cleaned.error(field_name, Message("不能超过 {count} 个字", count=max_length))
        return None
    return value


def clean_resident(
    data: Mapping[str, Any],
    vocabulary: ResidentVocabulary,
    *,
    partial: bool,
    id_on_record: str | None = None,
) -> Cleaned:
    """Validate ``data``; with ``partial`` only the given fields are checked (an update).

    A gender or birth date must agree with the ID number: the one in ``data``, or when it has
    none, ``id_on_record`` (an update's stored number, decrypted by the caller).
    """
    cleaned = Cleaned()
    if not isinstance(data, Mapping):
        cleaned.error("(body)", Message("应为 JSON 对象"))
        return cleaned
    if not data.keys() <= _ACCEPTED:
        for unknown in sorted(set(data) - _ACCEPTED):
            cleaned.error(unknown, Message("不是可以填写的字段"))

    def given(name: str) -> bool:
        return name in data or not partial

    if given("name"):
        name = _text(data.get("name"), "name", cleaned, max_length=50, required=True)
        if name is not None:
            cleaned.values["name"] = name
    id_number: str | None = None
    if given("id_number"):
        raw = _text(data.get("id_number"), "id_number", cleaned, max_length=30, required=True)
        if raw is not None:
            try:
                id_number = validate_id(raw)
                cleaned.values["id_number"] = id_number
            except IdNumberError as exc:
                cleaned.error("id_number", exc.args[0])
    # What a given gender or birth date is checked against (an invalid new number: nothing,
    # its own error says what is wrong once).
    reference = id_number if "id_number" in data else id_on_record
    if given("gender"):
        raw_gender = data.get("gender")
        id_given = bool(data.get("id_number"))  # when it is invalid, say so once, not thrice
        if raw_gender in (None, ""):
            if id_number:
                cleaned.values["gender"] = gender_of(id_number)
            elif not partial and not id_given:
                cleaned.error("gender", Message("不能为空"))
        elif not isinstance(raw_gender, str) or raw_gender not in _GENDER_WORDS:
            cleaned.error("gender", Message("应为 男 或 女"))
        else:
            cleaned.values["gender"] = _GENDER_WORDS[raw_gender]
            if reference and gender_of(reference) != cleaned.values["gender"]:
                cleaned.error("gender", Message("与身份证号中的性别不一致"))
    if given("birth_date"):
        raw_birth = data.get("birth_date")
        if raw_birth in (None, ""):
            if id_number:
                cleaned.values["birth_date"] = birth_date_of(id_number)
            elif not partial and not data.get("id_number"):
                cleaned.error("birth_date", Message("不能为空"))
        else:
            born = read_date(raw_birth)
            if born is None:
                cleaned.error("birth_date", DATE_REFUSAL)
            elif born > date.today():
                cleaned.error("birth_date", Message("不能晚于今天"))
            else:
                cleaned.values["birth_date"] = born
                if reference and birth_date_of(reference) != born:
                    cleaned.error("birth_date", Message("与身份证号中的出生日期不一致"))
    if given("phone"):
        raw_phone = data.get("phone")
        if raw_phone in (None, ""):
            cleaned.values["phone"] = None
        elif not isinstance(raw_phone, str | int):
            cleaned.error("phone", Message("应为文字"))
        else:
            try:
                cleaned.values["phone"] = validate_phone(str(raw_phone))
            except ValueError as exc:
                cleaned.error("phone", exc.args[0])
    if given("registration"):
        raw_reg = data.get("registration")
        if not isinstance(raw_reg, str) or raw_reg not in _REGISTRATION_WORDS:
            cleaned.error("registration", Message("应为 户籍、常住 或 流动"))
        else:
            cleaned.values["registration"] = _REGISTRATION_WORDS[raw_reg]
    if "unit_code" in data:
        code = _text(data.get("unit_code"), "unit_code", cleaned, max_length=12, required=True)
        if code is not None:
            cleaned.values["unit_code"] = code
    if "address" in data:
        _clean_address(data.get("address"), cleaned)
    if "household_number" in data:
        number = _text(
            data.get("household_number"), "household_number", cleaned, max_length=40, required=False
        )
        cleaned.values["household_number"] = number
    if "tags" in data:
        _clean_tags(data.get("tags"), vocabulary, cleaned)
    if "attributes" in data:
        _clean_attributes(data.get("attributes"), vocabulary, cleaned)
    return cleaned


def registration_code(word: Any) -> str | None:
    """The code (``huji``) of a registration type given in either form (户籍 or ``huji``), as
    bodies take it; None for anything else."""
    return _REGISTRATION_WORDS.get(word) if isinstance(word, str) else None


def _clean_address(raw: Any, cleaned: Cleaned) -> None:
    if raw is None:
        cleaned.values["address"] = None
        return
    if not isinstance(raw, Mapping):
        cleaned.error("address", Message("应为包含 compound、building、entrance、room 的对象"))
        return
    if not raw.keys() <= _ADDRESS_KEYS:
        for unknown in sorted(set(raw) - _ADDRESS_KEYS):
            cleaned.error(f"address.{unknown}", Message("不是地址字段"))
    address: dict[str, str] = {}
    for key, limit in _ADDRESS_LIMITS:
        value = _text(
            raw.get(key), f"address.{key}", cleaned, max_length=limit, required=key == "compound"
        )
        address[key] = value or ""
    cleaned.values["address"] = address


def _clean_tags(raw: Any, vocabulary: ResidentVocabulary, cleaned: Cleaned) -> None:
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        cleaned.error("tags", Message("应为标签名称的列表"))
        return
    if len(raw) > MAX_TAGS:
        cleaned.error("tags", Message("标签不能超过 {count} 个", count=MAX_TAGS))
        return
    tags = sorted({t.strip() for t in raw if t.strip()})
    unknown = [t for t in tags if not vocabulary.known_tag(t)]
    if unknown:
        cleaned.error("tags", Message("不在标签目录中：{tags}", tags="、".join(unknown)))
        return
    cleaned.values["tags"] = tags


def _clean_attributes(raw: Any, vocabulary: ResidentVocabulary, cleaned: Cleaned) -> None:
    if not isinstance(raw, Mapping):
        cleaned.error("attributes", Message("应为对象，键为“插件.属性”"))
        return
    known = {spec.key: spec for spec in vocabulary.active_attributes()}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = known.get(key)
        if spec is None:
            cleaned.error(f"attributes.{key}", Message("没有这个扩展属性"))
            continue
        if value is not None:
            problems = sorted(spec.validator.iter_errors(value), key=lambda e: list(e.path))
            if problems:
                first = problems[0]
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.path)
                cleaned.error(
                    f"attributes.{key}", f"{spec.attribute.title}{where}：{in_chinese(first)}"
                )
                continue
        values[key] = value
    cleaned.values["attributes"] = values


#: The fields' names in the messages (姓名：不能为空).
FIELD_TITLES = {
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "phone": "电话",
    "registration": "户籍类型",
    "unit_code": "所属居委",
    "address": "地址",
    "household_number": "户号",
    "tags": "标签",
    "attributes": "扩展属性",
    "version": "版本号",
}


def field_title(field_name: str) -> str:
    """The Chinese name of ``field_name`` (``address.room`` is 地址)."""
    return FIELD_TITLES.get(field_name.split(".")[0], field_name)


def raise_if_invalid(cleaned: Cleaned, titles: Mapping[str, str] | None = None) -> None:
    """Raise ValidationFailed naming the first problem (and listing all) if there are any;
    the message names the field in Chinese, by ``titles`` or the resident's own."""
    if cleaned.errors:
        first = cleaned.errors[0]
        title = (titles or {}).get(first["field"]) or field_title(first["field"])
        raise ValidationFailed(
            f"{title}：{first['message']}"
            + (f"（共 {len(cleaned.errors)} 处问题）" if len(cleaned.errors) > 1 else ""),
            field=first["field"],
            details=cleaned.errors,
        )
