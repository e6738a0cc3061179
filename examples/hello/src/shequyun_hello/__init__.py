"""The hello plugin: a small message board (留言板) showing each part of a plugin."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import (
    EventType,
    NavEntry,
    Platform,
    PluginContext,
    ValidationFailed,
    hookimpl,
    platform_from_request,
    read_json,
    requires,
)
from shequyun_sdk.events import payload
from shequyun_sdk.openapi import DATETIME, INTEGER, STRING, array, describe, obj
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .models import Message

HERE = Path(__file__).parent
MAX_LENGTH = 500

MANIFEST = {
    "name": "hello",
    "version": "0.1.0",
    "title": {"zh": "留言板", "en": "Message board"},
    "description": {"zh": "居民与干部的简单留言板", "en": "A simple message board"},
    "sdk": ">=1.0,<2",
    "permissions": [
        {
            "name": "hello.post",
            "title": {"zh": "发布留言", "en": "Post messages"},
            "roles": ["identity.cadre", "identity.social_worker"],
        }
    ],
    "settings_schema": {
        "type": "object",
        "properties": {"greeting": {"type": "string", "default": "欢迎留言"}},
        "additionalProperties": False,
    },
}


#: What subscribers of ``hello.message_posted`` receive: the new message's id.
MESSAGE_POSTED = EventType(
    "hello.message_posted",
    "Someone posted a message on the board.",
    payload({"id": {"type": "integer", "minimum": 1}}),
    example={"id": 1},
)


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return [MESSAGE_POSTED]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/", message_page)]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [
        Route("/messages", list_messages, methods=["GET"]),
        Route("/messages", post_message, methods=["POST"]),
    ]


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    # In the navigation of those who may post; anyone may still read the board at its address.
    return [
        NavEntry(
            label="留言板",
            label_en="Messages",
            href=plugin.url("/"),
            order=50,
            permission="hello.post",
        )
    ]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [Message]


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return HERE / "migrations"


@hookimpl
def register_templates(plugin: PluginContext) -> Path:
    return HERE / "templates"


@hookimpl
def register_translations(plugin: PluginContext) -> Path:
    # Chinese is written in the templates as the message ids; English is in locale/en.
    return HERE / "locale"


def _recent(platform: Platform) -> list[Message]:
    with platform.session() as session:
        return list(session.exec(select(Message).order_by(col(Message.id).desc()).limit(50)))


MESSAGE = obj({"id": INTEGER, "text": STRING, "created_at": DATETIME}, required=["id", "text"])


async def message_page(request: Request) -> Response:
    platform = platform_from_request(request)
    messages = await run_in_threadpool(_recent, platform)
    return platform.render(request, "hello/index.html", {"messages": messages})


@describe(response=obj({"messages": array(MESSAGE)}, required=["messages"]))
async def list_messages(request: Request) -> Response:
    messages = await run_in_threadpool(_recent, platform_from_request(request))
    return JSONResponse({"messages": [m.as_dict() for m in messages]})


@describe(
    body=obj({"text": {**STRING, "maxLength": MAX_LENGTH}}, required=["text"], closed=True),
    response=MESSAGE,
    status=201,
)
@requires("hello.post")  # anonymous visitors may read, never write
async def post_message(request: Request) -> Response:
    body = await read_json(request)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("留言内容不能为空", field="text")
    if len(text) > MAX_LENGTH:
        raise ValidationFailed(f"留言不能超过 {MAX_LENGTH} 个字", field="text")
    platform = platform_from_request(request)

    def save() -> Message:
        with platform.session() as session:
            message = Message(text=text.strip())
            session.add(message)
            session.flush()
            platform.publish(session, MESSAGE_POSTED.name, {"id": message.id})
            return message

    message = await run_in_threadpool(save)
    return JSONResponse(message.as_dict(), status_code=201)
