"""The app manifest: what an external system declares when an administrator registers it.

The schema is published (``GET /api/v1/apps/manifest-schema`` and docs/apps.md); a manifest
that breaks it is refused with the JSON path of the first problem as the error's field.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from shequyun_sdk import ValidationFailed

__all__ = ["MANIFEST_SCHEMA", "OIDC_SCOPES", "validate_manifest"]

#: Scopes that are about signing a person in, not about platform permissions.
OIDC_SCOPES = ("openid", "profile", "grants", "offline_access")

_URL = {"type": "string", "pattern": "^https?://[^\\s]+$", "maxLength": 500}
_LABEL = {"type": "string", "minLength": 1, "maxLength": 40}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://shequyun.example/schemas/app-manifest-1.json",
    "title": "shequyun external app manifest",
    "type": "object",
    "additionalProperties": False,
    "required": ["slug", "name", "base_url"],
    "properties": {
        "slug": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9-]{2,39}$",
            "description": "Stable identifier: lower-case letters, digits and dashes.",
        },
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "description": {"type": "string", "maxLength": 500},
        "base_url": _URL,
        "redirect_uris": {"type": "array", "items": _URL, "maxItems": 10},
        "post_logout_redirect_uris": {"type": "array", "items": _URL, "maxItems": 10},
        "scopes": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*\\.[a-z0-9_.]+$"},
            "uniqueItems": True,
            "description": "Platform permissions the app's own tokens may use.",
        },
        "nav": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "path"],
                "properties": {
                    "label": _LABEL,
                    "label_en": _LABEL,
                    "path": {"type": "string", "pattern": "^/[^\\s]*$", "maxLength": 200},
                    "permission": {"type": "string", "maxLength": 120},
                },
            },
        },
        "webhook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url", "events"],
            "properties": {
                "url": _URL,
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": "^(\\*|[a-z0-9_.]+\\*?)$"},
                },
            },
        },
        "units": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "uniqueItems": True,
            "description": "Codes of the org units where the app is enabled (and below).",
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)


def validate_manifest(manifest: Any) -> dict[str, Any]:
    """Return ``manifest`` if it follows :data:`MANIFEST_SCHEMA`; else raise ValidationFailed
    naming the field (``webhook.url``, ``nav.0.path``) and the reason."""
    if not isinstance(manifest, dict):
        raise ValidationFailed("应用清单必须是 JSON 对象", field="manifest")
    errors = sorted(_VALIDATOR.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        field = ".".join(str(p) for p in first.absolute_path) or "manifest"
        if first.validator == "required":
            missing = first.message.split("'")[1] if "'" in first.message else ""
            field = f"{field}.{missing}" if field != "manifest" else missing
            raise ValidationFailed(f"应用清单缺少必填项 {missing}", field=field)
        if first.validator == "additionalProperties":
            raise ValidationFailed(f"应用清单含有未知字段：{first.message}", field=field)
        raise ValidationFailed(f"应用清单的 {field} 不合规：{first.message}", field=field)
    return manifest
