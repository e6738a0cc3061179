"""register_models: the plugin's SQLModel table classes (their tables come from its migrations)."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl, platform_from_request, read_json
from sqlmodel import Field, SQLModel, col, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._plugins import MIGRATIONS, Notice, manifest, plugin_listing


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_models(self, plugin):
        return [Notice]

    @hookimpl
    def register_migrations(self, plugin):
        return MIGRATIONS

    @hookimpl
    def register_api_routes(self, plugin):
        return [
            Route("/notices", self.list_notices, methods=["GET"]),
            Route("/notices", self.post_notice, methods=["POST"]),
        ]

    async def list_notices(self, request):
        platform = platform_from_request(request)

        def read():
            with platform.session() as session:
                return [n.title for n in session.exec(select(Notice).order_by(col(Notice.id)))]

        return JSONResponse({"notices": await run_in_threadpool(read)})

    async def post_notice(self, request):
        body = await read_json(request)
        platform = platform_from_request(request)

        def save():
            with platform.session() as session:
                session.add(Notice(committee=body["committee"], title=body["title"]))

        await run_in_threadpool(save)
        return JSONResponse({"ok": True}, status_code=201)


class Bulletin(SQLModel, table=True):
    """A table a careless plugin forgot to prefix with its name."""

    __tablename__ = "bulletin"

    id: int | None = Field(default=None, primary_key=True)


class UnprefixedTable:
    MANIFEST = manifest("garbage_sorting", "垃圾分类")

    @hookimpl
    def register_models(self):
        return [Bulletin]


class BrokenModels:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_models(self):
        raise ImportError("parking.models")


class NotModels:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_models(self):
        return ["deliberation_topic"]


class ElderlyMeal(SQLModel, table=True):
    __tablename__ = "meals_order"

    id: int | None = Field(default=None, primary_key=True)


class Unmigrated:
    """Declares a table and forgets the migration that creates it."""

    MANIFEST = manifest("meals", "老年助餐")

    @hookimpl
    def register_models(self):
        return [ElderlyMeal]


@pytest.fixture
def shequyun_plugins():
    return [Noticeboard(), UnprefixedTable(), BrokenModels(), NotModels(), Unmigrated()]


def test_the_tables_are_collected_per_plugin(shequyun_kernel):
    assert [table.name for table in shequyun_kernel.tables["noticeboard"]] == ["noticeboard_notice"]


def test_the_models_are_usable_through_platform_sessions(shequyun_client):
    assert plugin_listing(shequyun_client)["noticeboard"]["state"] == "active"
    created = shequyun_client.post(
        "/api/v1/plugins/noticeboard/notices",
        json={"committee": "田林十二村居委会", "title": "本周六开展垃圾分类宣传"},
    )
    assert created.status_code == 201
    listed = shequyun_client.get("/api/v1/plugins/noticeboard/notices").json()
    assert listed == {"notices": ["本周六开展垃圾分类宣传"]}


def test_a_table_not_named_after_the_plugin_fails_it(shequyun_client, shequyun_kernel):
    garbage_sorting = plugin_listing(shequyun_client)["garbage_sorting"]
    assert garbage_sorting["state"] == "failed"
    assert "table 'bulletin' must be named garbage_sorting_*" in garbage_sorting["reason"]
    assert "garbage_sorting" not in shequyun_kernel.tables


def test_a_raising_register_models_fails_the_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert parking["reason"] == "hook register_models raised ImportError: parking.models"


def test_returning_something_else_than_table_classes_fails_the_plugin(shequyun_client):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "register_models" in deliberation["reason"]
    assert "is not a SQLModel table class" in deliberation["reason"]


def test_models_without_migrations_fail_the_plugin_naming_the_tables(shequyun_client):
    meals = plugin_listing(shequyun_client)["meals"]
    assert meals["state"] == "failed"
    assert "(meals_order) but register_migrations gives no migrations" in meals["reason"]
