"""``shequyun_sdk.testing.trail``: the route walk sees a plugin's writes through its mounts, and
a step fails on a missing, extra, undeclared or misshapen audit entry."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, platform_from_request, requires
from shequyun_sdk.testing.trail import AuditTrail, plugin_routes, state_changing_routes
from shequyun_sdk.web import JSONResponse
from starlette.routing import Route

from .hooks._plugins import manifest

NOTES = manifest(
    "notes", "便签", audit_actions={"notes.deleted": {"zh": "删除便签", "en": "Deleted a note"}}
)


@requires("residents.read")
async def delete_note(request, actor):
    platform = platform_from_request(request)
    note_id = int(request.path_params["note_id"])
    action = request.headers.get("x-action", "notes.deleted")
    with platform.session() as session:
        platform.audit(
            session,
            action,
            actor=actor,
            target_type="notes_note",
            target_id=note_id,
            detail={"reason": request.headers.get("x-reason", "duplicate")},
        )
    return JSONResponse({"deleted": note_id})


@requires("residents.read")
async def keep(request, actor):
    return JSONResponse({"kept": True})


class Notes:
    MANIFEST = NOTES

    @hookimpl
    def register_routes(self):
        return [Route("/", keep, methods=["GET"]), Route("/new", keep, methods=["POST"])]

    @hookimpl
    def register_api_routes(self):
        return [Route("/notes/{note_id:int}", delete_note, methods=["DELETE"])]


@pytest.fixture
def shequyun_plugins():
    return [Notes()]


DELETE = "DELETE /api/v1/plugins/notes/notes/{note_id:int}"


def test_the_walk_lists_a_plugins_routes_and_its_writes(shequyun_app):
    assert plugin_routes(shequyun_app, "notes") >= {"GET /plugins/notes/", DELETE}
    assert state_changing_routes(shequyun_app, "notes") == {"POST /plugins/notes/new", DELETE}


def test_a_step_checks_the_entries_it_left(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()  # signing in is audited: before the trail starts
    reader = shequyun_actors.platform_admin().auth
    trail = AuditTrail(
        shequyun_client, reader, detail={"notes.deleted": [{"reason"}]}, manifest=NOTES
    )

    def delete(**headers):
        return shequyun_client.delete(
            "/api/v1/plugins/notes/notes/7", headers={**cadre.auth, **headers}
        )

    trail.step(DELETE, delete(), audit=[("notes.deleted", "notes_note", {"reason": "duplicate"})])
    with pytest.raises(AssertionError, match=r"wrote \[\('notes.deleted', 'notes_note'\)\]"):
        trail.step(DELETE, delete(), audit=[])
    trail.mark()
    with pytest.raises(AssertionError, match="expected"):
        trail.step(
            DELETE,
            delete(**{"x-reason": "wrong"}),
            audit=[("notes.deleted", "notes_note", {"reason": "duplicate"})],
        )
    trail.mark()
    with pytest.raises(AssertionError, match=r"declare notes\.kept"):
        trail.step(
            DELETE, delete(**{"x-action": "notes.kept"}), audit=[("notes.kept", "notes_note")]
        )
    trail.mark()
    strict = AuditTrail(shequyun_client, reader, detail={"notes.deleted": [set()]})
    with pytest.raises(AssertionError, match=r"detail \['reason'\]"):
        strict.step(DELETE, delete(), audit=[("notes.deleted", "notes_note")])
    trail.mark()
    trail.step("POST /plugins/notes/new", portal.post("/plugins/notes/new"), audit=[])
    trail.check_walked([DELETE, "POST /plugins/notes/new"])
