"""The plugin manifest: what a plugin says about itself before the kernel trusts it.

A plugin module exposes ``MANIFEST``, a dict validated against :data:`MANIFEST_SCHEMA` when the
plugin is loaded. The kernel refuses a plugin whose manifest is invalid, whose ``sdk`` range does
not include this SDK's version, or whose ``requires`` are not all active.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

__all__ = ["MANIFEST_SCHEMA", "ManifestError", "check_manifest", "sdk_range_allows"]

_LOCALIZED = {
    "type": "object",
    "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string"}},
    "required": ["zh"],
    "additionalProperties": False,
}

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "shequyun plugin manifest",
    "type": "object",
    "properties": {
        "name": _NAME,
        "version": {"type": "string", "minLength": 1, "maxLength": 40},
        "title": _LOCALIZED,
        "description": _LOCALIZED,
        "sdk": {"type": "string", "minLength": 1, "maxLength": 80},
        "permissions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$"},
                    "title": _LOCALIZED,
                    "roles": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "title"],
                "additionalProperties": False,
            },
        },
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$"},
                    "title": _LOCALIZED,
                    "permissions": {"type": "array", "items": {"type": "string"}},
                    "levels": {
                        "type": "array",
                        "items": {"enum": ["city", "district", "street", "committee"]},
                    },
                },
                "required": ["name", "title", "permissions"],
                "additionalProperties": False,
            },
        },
        "actor_permissions": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$"},
            "uniqueItems": True,
        },
        "settings_schema": {"type": "object"},
        "requires": {"type": "array", "items": _NAME, "uniqueItems": True},
        "enabled_by_default": {"type": "boolean"},
        "audit_actions": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$", "maxLength": 80},
            "additionalProperties": _LOCALIZED,
        },
        "demo_units": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "maxItems": 50,
        },
    },
    "required": ["name", "version", "title", "description", "sdk"],
    "additionalProperties": False,
}

_VALIDATOR = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)


class ManifestError(ValueError):
    """The manifest is not acceptable; the message lists every problem."""


def check_manifest(manifest: Mapping[str, Any]) -> None:
    """Raise :class:`ManifestError` listing every problem with ``manifest``, or return None.

    Checks the shape against :data:`MANIFEST_SCHEMA`, that ``sdk`` is a valid version range,
    that declared permissions and roles are namespaced by the plugin's name, and that
    ``settings_schema`` is itself a valid JSON Schema.
    """
    if not isinstance(manifest, Mapping):
        raise ManifestError("MANIFEST must be a dict")
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(_VALIDATOR.iter_errors(manifest), key=lambda e: list(e.path))
    ]
    if problems:
        raise ManifestError("; ".join(problems))
    try:
        SpecifierSet(manifest["sdk"])
    except InvalidSpecifier:
        problems.append(f"sdk: {manifest['sdk']!r} is not a version range such as '>=0.1,<1'")
    prefix = manifest["name"] + "."
    for kind in ("permissions", "roles"):
        for item in manifest.get(kind, []):
            if not item["name"].startswith(prefix):
                problems.append(f"{kind}: {item['name']!r} must start with {prefix!r}")
    for action in manifest.get("audit_actions", {}):
        if not action.startswith(prefix):
            problems.append(f"audit_actions: {action!r} must start with {prefix!r}")
    schema = manifest.get("settings_schema")
    if schema is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            problems.append(f"settings_schema: {exc.message}")
    if problems:
        raise ManifestError("; ".join(problems))


def sdk_range_allows(sdk_range: str, sdk_version: str, compatible_with: Iterable[str] = ()) -> bool:
    """Return whether the manifest's ``sdk`` range admits ``sdk_version``, or one of the
    earlier releases ``compatible_with`` whose whole contract ``sdk_version`` keeps (a plugin
    written for SDK 0.1 and declaring ``>=0.1,<0.2`` loads under 1.0)."""
    specifier = SpecifierSet(sdk_range)
    return any(
        specifier.contains(Version(version), prereleases=True)
        for version in (sdk_version, *compatible_with)
    )
