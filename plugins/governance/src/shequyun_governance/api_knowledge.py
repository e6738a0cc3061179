"""``/api/v1/plugins/governance/articles`` and ``/search``: the knowledge base."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import (
    NotFound,
    ValidationFailed,
    platform_from_request,
    read_json_object,
    requires,
)
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import api_schemas as docs
from . import knowledge
from .core import PUBLISH, VIEW
from .web import actor_of

__all__ = ["ROUTES"]


@describe(query=docs.ARTICLE_PARAMS, response=docs.ARTICLES)
@requires(VIEW)
async def list_articles(request: Request) -> Response:
    """Articles the caller may read, newest first: ``kind``, ``category``, ``limit``."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = request.query_params
    kind = params.get("kind") or None
    if kind is not None and kind not in knowledge.KINDS:
        raise ValidationFailed("类型应为 " + "、".join(knowledge.KINDS), field="kind")
    limit = query_int(request, "limit", 50, low=1, high=200)

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            rows = knowledge.listed(
                platform,
                session,
                actor,
                kind=kind,
                category=params.get("category"),
                limit=max(limit, 1),
            )
            return [knowledge.article_dict(a, full=False) for a in rows]

    return JSONResponse({"items": await run_in_threadpool(work)})


@describe(body=docs.NEW_ARTICLE, response=docs.ARTICLE, status=201)
@requires(PUBLISH)
async def create_article(request: Request) -> Response:
    """Publish an article at the caller's unit: ``kind``, ``title``, ``body``, ``categories``
    (case-category codes it answers), ``attachments`` (uploaded ids)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    raw = await read_json_object(request)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            return knowledge.article_dict(knowledge.publish(platform, session, actor, raw))

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(response=docs.ARTICLE)
@requires(VIEW)
async def read_article(request: Request) -> Response:
    """One article, current version, with the list of its versions."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = path_id(request, "article_id")

    def work() -> dict[str, Any]:
        with platform.session() as session:
            article = knowledge.get(platform, session, actor, article_id)
            data = knowledge.article_dict(article)
            data["versions"] = [
                {
                    "version": v.version,
                    "title": v.title,
                    "note": v.note,
                    "author": v.author,
                    "at": v.at.isoformat(),
                }
                for v in knowledge.versions(session, article_id)
            ]
            return data

    return JSONResponse(await run_in_threadpool(work))


@describe(body=docs.REVISED_ARTICLE, response=docs.ARTICLE)
@requires(PUBLISH)
async def revise_article(request: Request) -> Response:
    """A new version (``version``: the one you edited, 409 when someone was faster)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = path_id(request, "article_id")
    raw = await read_json_object(request)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            return knowledge.article_dict(
                knowledge.revise(platform, session, actor, article_id, raw)
            )

    return JSONResponse(await run_in_threadpool(work))


@describe(response=docs.WITHDRAWN)
@requires(PUBLISH)
async def withdraw_article(request: Request) -> Response:
    """Withdraw an article: no longer listed or found (its versions stay)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = path_id(request, "article_id")

    def work() -> None:
        with platform.session() as session:
            knowledge.withdraw(platform, session, actor, article_id)

    await run_in_threadpool(work)
    return JSONResponse({"withdrawn": True})


@describe(query=[docs.DOWNLOAD], responses=docs.FILE)
@requires(VIEW)
async def article_file(request: Request) -> Response:
    """A file of an article, for anyone who may read the article."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = path_id(request, "article_id")
    attachment_id = str(request.path_params["attachment_id"])

    def work() -> Response:
        with platform.session() as session:
            article = knowledge.get(platform, session, actor, article_id)
            found = platform.get_attachment(session, attachment_id)
            if found is None or attachment_id not in article.attachments:
                raise NotFound("找不到该附件", field="attachment_id")
            return platform.attachment_response(
                session, found, download=request.query_params.get("download") == "1"
            )

    return await run_in_threadpool(work)


@describe(query=docs.SEARCH_PARAMS, response=docs.SEARCH)
@requires(VIEW)
async def search_route(request: Request) -> Response:
    """Full-text search (Chinese word segmentation): ``q``, ``limit`` (≤50); ranked, with
    highlighted ``title_html`` and ``snippet_html``."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    query = (request.query_params.get("q") or "").strip()
    if not query or len(query) > 100:
        raise ValidationFailed("请输入 1–100 个字的搜索内容", field="q")
    limit = query_int(request, "limit", 20, low=1, high=50)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            found, words, partial = knowledge.search_articles(
                platform, session, actor, query, limit=max(limit, 1)
            )
            return {
                "query": query,
                "words": words,
                "partial": partial,
                "items": [
                    {**knowledge.article_dict(a, full=False), "title_html": t, "snippet_html": s}
                    for a, t, s in found
                ],
            }

    return JSONResponse(await run_in_threadpool(work))


ROUTES: list[BaseRoute] = [
    Route("/search", search_route, methods=["GET"]),
    Route("/articles", list_articles, methods=["GET"]),
    Route("/articles", create_article, methods=["POST"]),
    Route("/articles/{article_id}", read_article, methods=["GET"]),
    Route("/articles/{article_id}", revise_article, methods=["PUT"]),
    Route("/articles/{article_id}", withdraw_article, methods=["DELETE"]),
    Route("/articles/{article_id}/files/{attachment_id}", article_file, methods=["GET"]),
]
