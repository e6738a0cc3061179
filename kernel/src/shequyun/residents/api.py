"""``/api/v1/residents``: the resident information base over HTTP, scoped by the kernel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequyun_sdk import Conflict, ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import describe, obj, query_param
from shequyun_sdk.params import path_id, query_int
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from ..replicas import reads_replica
from ..sessions import reading_engine
from . import api_schemas as docs
from .batch import check_ids, retag
from .reading import API_SORTS
from .service import READ, TRANSFER, WRITE, ResidentFilters
from .validation import registration_code

__all__ = ["ROUTES"]

SOURCE = "api"


def _kernel(request: Request) -> Any:
    return request.app.state.kernel


async def _in_session(request: Request, work: Callable[[Session], Any], *, commit: bool) -> Any:
    def run() -> Any:
        engine = _kernel(request).engine if commit else reading_engine(request)
        with Session(engine, expire_on_commit=False) as session:
            try:
                result = work(session)
                if commit:
                    session.commit()
            except IntegrityError:
                # A concurrent writer registered the same ID number (the database's partial
                # unique index decides) or changed the same rows first.
                session.rollback()
                raise Conflict(
                    "该身份证号已被同时登记，或数据刚被他人修改，请刷新后重试", field="id_number"
                ) from None
            return result

    return await run_in_threadpool(run)


async def _body_of(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON object sent, refusing members ``schema`` (the body the route declares) does
    not list, each named (422), as registering and PATCH refuse theirs: a misspelt optional
    member (a transfer's ``reson``) would otherwise be dropped without a word."""
    body = await read_json_object(request)
    unknown = sorted(set(body) - set(schema["properties"]))
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]}：不是可以填写的字段"
            + (f"（共 {len(unknown)} 处问题）" if len(unknown) > 1 else ""),
            field=unknown[0],
            details=[{"field": name, "message": "不是可以填写的字段"} for name in unknown],
        )
    return body


def filters_from(request: Request) -> ResidentFilters:
    """Search filters from the query string, each checked (shared with export)."""
    params = request.query_params
    registration = params.get("registration") or None
    if registration is not None:
        registration = registration_code(registration)
        if registration is None:
            raise ValidationFailed(
                "registration 应为 户籍、常住 或 流动（或 huji、changzhu、liudong）",
                field="registration",
            )
    status = params.get("status") or "active"
    if status not in {"active", "removed", "any"}:
        raise ValidationFailed("status 应为 active、removed 或 any", field="status")
    for name in ("q", "compound", "building", "unit", "id_number", "phone"):
        if len(params.get(name) or "") > 60:
            raise ValidationFailed(f"{name} 过长", field=name)
    unit = (params.get("unit") or "").strip() or None
    if unit is not None and not (len(unit) == 12 and unit.isascii() and unit.isdigit()):
        # A committee's, a street's or a district's code (a name finds nothing: say so).
        raise ValidationFailed("unit 应为 12 位单位编码（居委、街镇或区）", field="unit")
    tags = tuple(t for t in params.getlist("tag") if t)
    if len(tags) > 10:
        raise ValidationFailed("一次最多按 10 个标签筛选", field="tag")
    chosen = params.getlist("id")
    return ResidentFilters(
        ids=tuple(check_ids(chosen, name="id")) if chosen else (),
        q=params.get("q") or None,
        tags=tags,
        age_min=query_int(request, "age_min", high=150),
        age_max=query_int(request, "age_max", high=150),
        compound=params.get("compound") or None,
        building=params.get("building") or None,
        registration=registration,
        unit_code=unit,
        id_number=(params.get("id_number") or "").strip().upper() or None,
        phone=params.get("phone") or None,
        status=status,
    )


@reads_replica
@describe(
    query=[
        *docs.FILTERS,
        query_param(
            "limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "条数"
        ),
        query_param("cursor", description="上一页的 next_cursor"),
        query_param(
            "sort",
            {"enum": [k for s in API_SORTS for k in (s, f"-{s}")], "default": "created"},
            "排序：created 登记顺序、name 姓名、updated 最后修改时间；前加 - 为倒序",
        ),
    ],
    response=docs.RESIDENT_PAGE,
)
@requires(READ)
async def list_residents(request: Request) -> Response:
    """Search the residents you may see, in registration order or by ``sort``; keyset
    pagination with ``cursor`` and ``limit``."""
    filters = filters_from(request)
    limit = query_int(request, "limit", 50, low=1, high=500)
    after = request.query_params.get("cursor") or None
    sort = request.query_params.get("sort") or ""
    if sort and sort.removeprefix("-") not in API_SORTS:
        raise ValidationFailed(
            "sort 应为 " + "、".join(k for s in API_SORTS for k in (s, f"-{s}")) + " 之一",
            field="sort",
        )
    actor = request_actor(request)
    service = _kernel(request).residents

    def run() -> bytes:
        # A page is one statement: a plain connection, no session (see ResidentReader.search);
        # its document is encoded here, off the event loop, in one pass (page_document).
        with reading_engine(request).connect() as connection:
            document: bytes = service.page_document(
                connection, actor, filters, after=after, limit=limit, sort=sort
            )
            return document

    return Response(await run_in_threadpool(run), media_type="application/json")


@describe(
    body=obj(
        docs.RESIDENT_FIELDS,
        required=["name", "id_number", "registration", "unit_code"],
        closed=True,
    ),
    response=docs.RESIDENT,
    status=201,
)
@requires(WRITE)
async def create_resident(request: Request) -> Response:
    """Register a resident in a committee within your grant."""
    body = await read_json_object(request)
    actor = request_actor(request)
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        resident = service.create(session, actor, body, source=SOURCE)
        session.flush()
        return service.view(session, resident)  # type: ignore[no-any-return]

    return JSONResponse(await _in_session(request, work, commit=True), status_code=201)


@describe(body=docs.BATCH_TAGS, response=docs.BATCH_RESULT)
@requires(WRITE)
async def retag_residents(request: Request) -> Response:
    """Add tags to and take tags off up to 200 residents at once; all or nothing, every failing
    resident listed in ``details``."""
    body = await _body_of(request, docs.BATCH_TAGS)
    actor = request_actor(request)
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        return retag(
            service,
            session,
            actor,
            body.get("resident_ids"),
            add=body.get("add"),
            remove=body.get("remove"),
            source=SOURCE,
        ).to_dict()

    return JSONResponse(await _in_session(request, work, commit=True))


@describe(response=docs.RESIDENT)
@requires(READ)
async def get_resident(request: Request) -> Response:
    """One resident, sensitive fields masked."""
    resident_id = path_id(request, "resident_id")
    actor = request_actor(request)
    service = _kernel(request).residents
    view = await _in_session(
        request, lambda s: service.view_of(s, actor, resident_id), commit=False
    )
    return JSONResponse(view)


@describe(body=docs.RESIDENT_CHANGES, response=docs.RESIDENT)
@requires(WRITE)
async def update_resident(request: Request) -> Response:
    """Change fields of a resident; send the ``version`` you read (409 with current values)."""
    resident_id = path_id(request, "resident_id")
    body = await read_json_object(request)
    changes = {k: v for k, v in body.items() if k != "version"}
    actor = request_actor(request)
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        resident = service.update(
            session, actor, resident_id, changes, version=body.get("version"), source=SOURCE
        )
        session.flush()
        return service.view(session, resident)  # type: ignore[no-any-return]

    return JSONResponse(await _in_session(request, work, commit=True))


@describe(body=docs.REMOVAL, response=docs.RESIDENT)
@requires(WRITE)
async def remove_resident(request: Request) -> Response:
    """Mark a resident removed (注销); the record and its history stay."""
    resident_id = path_id(request, "resident_id")
    body = await _body_of(request, docs.REMOVAL)
    actor = request_actor(request)
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        resident = service.remove(
            session,
            actor,
            resident_id,
            version=body.get("version"),
            reason=body.get("reason"),
            source=SOURCE,
        )
        session.flush()
        return service.view(session, resident)  # type: ignore[no-any-return]

    return JSONResponse(await _in_session(request, work, commit=True))


@describe(response=docs.HISTORY)
@requires(READ)
async def resident_history(request: Request) -> Response:
    """Every change to the record: who, when, under which grant, field, old and new value."""
    resident_id = path_id(request, "resident_id")
    actor = request_actor(request)
    service = _kernel(request).residents
    changes = await _in_session(
        request, lambda s: service.history(s, actor, resident_id), commit=False
    )
    return JSONResponse({"changes": changes})


@describe(body=docs.TRANSFER, response=docs.TRANSFERRED)
@requires(TRANSFER)
async def transfer_resident(request: Request) -> Response:
    """Move the record to another committee from a date (迁移)."""
    resident_id = path_id(request, "resident_id")
    body = await _body_of(request, docs.TRANSFER)
    actor = request_actor(request)
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        resident = service.transfer(
            session,
            actor,
            resident_id,
            to_unit_code=body.get("to_unit_code"),
            effective_on=body.get("effective_on"),
            reason=body.get("reason"),
            version=body.get("version"),
            source=SOURCE,
        )
        return {
            "id": resident.id,
            "unit_code": body.get("to_unit_code"),
            "version": resident.version,
        }

    return JSONResponse(await _in_session(request, work, commit=True))


@describe(body=docs.REVEAL, response=docs.REVEALED)
@requires("residents.reveal")
async def reveal_resident(request: Request) -> Response:
    """Show the full ID number or phone; needs a stated reason and is audited."""
    resident_id = path_id(request, "resident_id")
    body = await _body_of(request, docs.REVEAL)
    actor = request_actor(request)
    service = _kernel(request).residents
    shown = await _in_session(
        request,
        lambda s: service.reveal(
            s, actor, resident_id, fields=body.get("fields"), reason=body.get("reason")
        ),
        commit=True,
    )
    return JSONResponse(shown)


@describe(
    query=[
        query_param(
            "limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "条数"
        ),
        query_param("cursor", description="上一页的 next_cursor"),
    ],
    response=docs.MOVED_OUT,
)
@requires(READ)
async def moved_out(request: Request) -> Response:
    """Residents whose records left committees you may see: the old committee's history,
    newest first; keyset pagination with ``cursor`` and ``limit``."""
    actor = request_actor(request)
    limit = query_int(request, "limit", 100, low=1, high=500)
    after = request.query_params.get("cursor") or None
    service = _kernel(request).residents

    def work(session: Session) -> dict[str, Any]:
        page = service.moved_out(session, actor, limit, after=after)
        return {"items": page.items, "next_cursor": page.next_cursor}

    return JSONResponse(await _in_session(request, work, commit=False))


@describe(response=docs.VOCABULARY)
@requires(READ)
async def vocabulary(request: Request) -> Response:
    """The tag vocabulary and the plugins' extra attributes."""
    vocab = _kernel(request).residents.vocabulary
    return JSONResponse(
        {
            "tags": [
                {"name": t.name, "description": t.description}
                for n, t in vocab.tags.items()
                if vocab.known_tag(n)
            ],
            "attributes": [
                {
                    "key": spec.key,
                    "title": spec.attribute.title,
                    "schema": dict(spec.attribute.schema),
                    "sensitive": spec.attribute.sensitive,
                }
                for spec in vocab.active_attributes()
            ],
        }
    )


ROUTES: list[BaseRoute] = [
    Route("/residents", list_residents, methods=["GET"]),
    Route("/residents", create_resident, methods=["POST"]),
    Route("/residents/vocabulary", vocabulary, methods=["GET"]),
    Route("/residents/moved-out", moved_out, methods=["GET"]),
    Route("/residents/batch/tags", retag_residents, methods=["POST"]),
    Route("/residents/{resident_id}", get_resident, methods=["GET"]),
    Route("/residents/{resident_id}", update_resident, methods=["PATCH"]),
    Route("/residents/{resident_id}", remove_resident, methods=["DELETE"]),
    Route("/residents/{resident_id}/history", resident_history, methods=["GET"]),
    Route("/residents/{resident_id}/transfer", transfer_resident, methods=["POST"]),
    Route("/residents/{resident_id}/reveal", reveal_resident, methods=["POST"]),
]
