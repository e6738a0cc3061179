"""The managed tag vocabulary and the plugin attributes of resident records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema
from shequyun_sdk.types import ResidentAttribute, TagDefinition

from ..plugin_host import PluginHost

__all__ = ["AttributeSpec", "ResidentVocabulary"]


@dataclass(frozen=True)
class AttributeSpec:
    plugin: str
    attribute: ResidentAttribute
    validator: Any

    @property
    def key(self) -> str:
        return f"{self.plugin}.{self.attribute.name}"


@dataclass
class ResidentVocabulary:
    """Tags and extra attributes contributed by the active plugins (the kernel's included)."""

    tags: dict[str, TagDefinition] = field(default_factory=dict)
    tag_owner: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    _host: PluginHost | None = None

    @classmethod
    def collect(cls, host: PluginHost) -> ResidentVocabulary:
        vocabulary = cls(_host=host)
        for record, tags in host.collect("register_resident_tags"):
            try:
                for tag in tags:
                    if not isinstance(tag, TagDefinition) or not tag.name.strip():
                        raise ValueError(f"{tag!r} is not a TagDefinition with a name")
                    if tag.name in vocabulary.tags:
                        owner = vocabulary.tag_owner[tag.name]
                        raise ValueError(f"tag {tag.name!r} is already defined by {owner}")
                    vocabulary.tags[tag.name] = tag
                    vocabulary.tag_owner[tag.name] = record.name
            except (TypeError, ValueError) as exc:
                vocabulary._forget(record.name)
                host.fail(record.name, f"register_resident_tags: {exc}")
        for record, attributes in host.collect("register_resident_attributes"):
            try:
                for attribute in attributes:
                    if not isinstance(attribute, ResidentAttribute):
                        raise ValueError(f"{attribute!r} is not a ResidentAttribute")
                    jsonschema.Draft202012Validator.check_schema(dict(attribute.schema))
                    spec = AttributeSpec(
                        record.name,
                        attribute,
                        jsonschema.Draft202012Validator(dict(attribute.schema)),
                    )
                    vocabulary.attributes[spec.key] = spec
            except (TypeError, ValueError, jsonschema.SchemaError) as exc:
                vocabulary._forget(record.name)
                message = getattr(exc, "message", str(exc))
                host.fail(record.name, f"register_resident_attributes: {message}")
        return vocabulary

    def _forget(self, plugin: str) -> None:
        for name in [n for n, owner in self.tag_owner.items() if owner == plugin]:
            del self.tags[name], self.tag_owner[name]
        for key in [k for k, spec in self.attributes.items() if spec.plugin == plugin]:
            del self.attributes[key]

    def active_attributes(self) -> list[AttributeSpec]:
        """Attributes of plugins still active, in registration order."""
        host = self._host
        return [
            spec for spec in self.attributes.values() if host is None or host.is_active(spec.plugin)
        ]

    def known_tag(self, name: str) -> bool:
        host = self._host
        owner = self.tag_owner.get(name)
        return owner is not None and (host is None or host.is_active(owner))
