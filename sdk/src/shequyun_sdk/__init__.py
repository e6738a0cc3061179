"""shequyun SDK: build plugins for the shequyun (社区云) community-governance platform.

Everything a plugin needs is importable from here::

    from shequyun_sdk import hookimpl, NavEntry, PluginContext

See ``docs/plugins/`` for the tutorial and the hook reference.
"""

from __future__ import annotations

import pluggy

from .attachments import ATTACHMENT_KINDS, AttachmentRef
from .attempts import AttemptLimit, AttemptVerdict, TooManyAttempts
from .errors import ApiError, Conflict, Forbidden, NotFound, ValidationFailed
from .events import EventContractError, EventType
from .identity import (
    LEVELS,
    Actor,
    ActorNotIssued,
    NotAuthenticated,
    UnitRef,
    actor_from_request,
    requires,
)
from .indicators import Breakdown, Indicator, IndicatorQuery, Period
from .manifest import MANIFEST_SCHEMA, ManifestError, check_manifest
from .platform import Platform, platform_from_request, plugin_from_request
from .residents import Building, ResidentRef
from .times import BEIJING, beijing_now, beijing_today, to_beijing
from .types import (
    Event,
    NavEntry,
    Permission,
    PluginContext,
    ResidentAttribute,
    ResidentPanel,
    Role,
    ScheduledJob,
    Subscriber,
    TagDefinition,
    Visitor,
    WorkbenchCard,
)
from .web import read_json, read_json_object

__version__ = "1.4.0"

#: Earlier releases whose whole contract this one keeps: a plugin whose ``MANIFEST["sdk"]``
#: admits one of them loads too (docs/plugins/compatibility.md).
COMPATIBLE_WITH = ("0.1.0",)

#: Decorate your hook implementations with this.
hookimpl = pluggy.HookimplMarker("shequyun")

#: The entry-point group under which plugin distributions register their module.
ENTRY_POINT_GROUP = "shequyun.plugins"

__all__ = [
    "ATTACHMENT_KINDS",
    "BEIJING",
    "COMPATIBLE_WITH",
    "ENTRY_POINT_GROUP",
    "LEVELS",
    "MANIFEST_SCHEMA",
    "Actor",
    "ActorNotIssued",
    "ApiError",
    "AttachmentRef",
    "AttemptLimit",
    "AttemptVerdict",
    "Breakdown",
    "Building",
    "Conflict",
    "Event",
    "EventContractError",
    "EventType",
    "Forbidden",
    "Indicator",
    "IndicatorQuery",
    "ManifestError",
    "NavEntry",
    "NotAuthenticated",
    "NotFound",
    "Period",
    "Permission",
    "Platform",
    "PluginContext",
    "ResidentAttribute",
    "ResidentPanel",
    "ResidentRef",
    "Role",
    "ScheduledJob",
    "Subscriber",
    "TagDefinition",
    "TooManyAttempts",
    "UnitRef",
    "ValidationFailed",
    "Visitor",
    "WorkbenchCard",
    "__version__",
    "actor_from_request",
    "beijing_now",
    "beijing_today",
    "check_manifest",
    "hookimpl",
    "platform_from_request",
    "plugin_from_request",
    "read_json",
    "read_json_object",
    "requires",
    "to_beijing",
]
