"""议事厅 and 邻里 for residents: the topics, one topic with its ballot and comments, and the
neighbours' posts; reports of a comment or post from either (hidden after ``auto_hide_reports``).
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, platform_from_request, plugin_from_request
from shequyun_sdk.params import form_int, path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import deliberation, neighbours, tally
from .core import Viewer
from .pages_common import page
from .web import form_errors, form_values, redirect, run, viewer_of

__all__ = ["ROUTES"]


async def topics(request: Request) -> Response:
    viewer = await viewer_of(request)
    rows = await run(deliberation.for_viewer, platform_from_request(request), viewer)
    return await page(
        request,
        "topics.html",
        viewer,
        {"rows": rows, "rules": deliberation.RULES, "in_scope": _scope_test(viewer)},
    )


def _scope_test(viewer: Viewer) -> Any:
    def test(topic: Any) -> bool:
        return viewer.resident is not None and deliberation.in_scope(topic, viewer.resident)

    return test


async def topic(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    topic_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        threshold = int(plugin_from_request(request).settings.get("auto_hide_reports", 3))
        try:
            if values.get("action") == "comment":
                await run(deliberation.comment, platform, topic_id, viewer, values)
            elif values.get("action") == "report":
                await run(
                    neighbours.report,
                    platform,
                    viewer,
                    "topic_comment",
                    values.get("target_id"),
                    values.get("reason"),
                    threshold=threshold,
                )
            else:
                await run(deliberation.cast_vote, platform, topic_id, viewer, values.get("option"))
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
            if values.get("action") == "report":  # shown by the comments, not the ballot
                errors = {"report": next(iter(errors.values()))}
        else:
            return redirect(request, f"/topics/{topic_id}?done={values.get('action', 'vote')}")

    def load() -> dict[str, Any]:
        with platform.session() as session:
            row = deliberation.get_visible(session, topic_id, viewer)
            tally.settle(platform, session, row)
            now_standing = tally.standing(platform, session, row)
            return {
                "topic": row,
                "ballot": deliberation.ballot_of(session, row, viewer),
                "ballots": now_standing["ballots"],
                "standing": now_standing,
                "comments": deliberation.comments(session, topic_id),
                "stances": deliberation.stance_counts(session, topic_id),
                "refusal": deliberation.refusal(row, viewer),
            }

    data = await run(load)
    return await page(
        request,
        "topic.html",
        viewer,
        {
            **data,
            "errors": errors,
            "values": values,
            "rules": deliberation.RULES,
            "stance_labels": deliberation.STANCES,
            "done": request.query_params.get("done"),
        },
        status_code=422 if errors else 200,
    )


async def posts(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    notice = ""
    if request.method == "POST":
        values = await form_values(request)
        action = values.get("action")
        threshold = int(plugin_from_request(request).settings.get("auto_hide_reports", 3))
        try:
            if action == "comment":
                post_id = form_int(values, "post_id", 0, label="帖子编号")
                await run(neighbours.comment, platform, viewer, post_id, values)
            elif action == "report":
                await run(
                    neighbours.report,
                    platform,
                    viewer,
                    values.get("target_type"),
                    values.get("target_id"),
                    values.get("reason"),
                    threshold=threshold,
                )
                return redirect(request, "/posts?reported=1")
            else:
                await run(neighbours.create_post, platform, viewer, values)
        except ApiError as exc:
            errors = form_errors(exc)
        except (KeyError, ValueError):
            errors = {"_form": platform.translator(request)("请求不完整，请刷新后重试")}
        else:
            return redirect(request, "/posts")
    if request.query_params.get("reported"):
        notice = platform.translator(request)("已收到您的举报，居委会将尽快处理")
    threads = await run(neighbours.posts_for, platform, viewer)
    return await page(
        request,
        "posts.html",
        viewer,
        {"threads": threads, "errors": errors, "values": values, "notice": notice},
        status_code=422 if errors else 200,
    )


ROUTES = [
    Route("/topics", topics, methods=["GET"]),
    Route("/topics/{item_id:int}", topic, methods=["GET", "POST"]),
    Route("/posts", posts, methods=["GET", "POST"]),
]
