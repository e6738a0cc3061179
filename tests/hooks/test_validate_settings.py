"""validate_settings: problems with a plugin's settings that its JSON Schema cannot express."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._plugins import manifest, plugin_listing


class CollectionReminder:
    """一键采集提醒: reminds committees of a form before its deadline.

    The schema checks each number; only the hook can check that the reminder comes before
    the deadline.
    """

    MANIFEST = manifest(
        "reminder",
        "采集提醒",
        settings_schema={
            "type": "object",
            "properties": {
                "deadline_days": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 7,
                    "title": "截止天数",
                },
                "remind_days_before": {"type": "integer", "minimum": 0, "default": 2},
            },
            "additionalProperties": False,
        },
    )

    def __init__(self):
        self.validated = []

    @hookimpl
    def validate_settings(self, settings):
        self.validated.append(dict(settings))
        if settings["remind_days_before"] >= settings["deadline_days"]:
            return ["提醒天数必须小于截止天数"]
        return None

    @hookimpl
    def register_api_routes(self, plugin):
        return [Route("/settings", lambda request: JSONResponse(dict(plugin.settings)))]


class DependsOnReminder:
    MANIFEST = manifest("bureau_forms", "委办局表单", requires=["reminder"])


@pytest.fixture
def reminder():
    return CollectionReminder()


@pytest.fixture
def shequyun_plugins(reminder):
    return [reminder]


def settings_for(**values):
    return {"plugin_settings": {"reminder": values}}


def test_valid_settings_reach_the_hook_and_the_plugin_with_defaults(shequyun_client, reminder):
    assert plugin_listing(shequyun_client)["reminder"]["state"] == "active"
    assert reminder.validated[-1] == {"deadline_days": 7, "remind_days_before": 2}
    expected = {"deadline_days": 7, "remind_days_before": 2}
    assert shequyun_client.get("/api/v1/plugins/reminder/settings").json() == expected


@pytest.mark.parametrize("shequyun_settings", [settings_for(deadline_days=3, remind_days_before=5)])
def test_returned_problems_fail_the_plugin_with_them_as_the_reason(shequyun_client):
    reminder = plugin_listing(shequyun_client)["reminder"]
    assert reminder["state"] == "failed"
    assert reminder["reason"] == "设置无效：提醒天数必须小于截止天数"
    assert shequyun_client.get("/api/v1/plugins/reminder/settings").status_code == 404
    assert shequyun_client.get("/healthz").status_code == 200


@pytest.mark.parametrize("shequyun_settings", [settings_for(deadline_days=0)])
def test_settings_violating_the_schema_fail_the_plugin_before_the_hook(shequyun_client, reminder):
    listed = plugin_listing(shequyun_client)["reminder"]
    assert listed["state"] == "failed"
    # In Chinese, naming the setting by its title and key: the operator fixes shequyun.toml.
    assert listed["reason"] == "设置无效：截止天数（deadline_days）：不能小于 1"
    assert reminder.validated == []


@pytest.mark.parametrize(
    "shequyun_settings", [settings_for(deadline_days="七", remind_days_before=-1, sms=True)]
)
def test_every_problem_is_named_in_chinese(shequyun_client):
    assert plugin_listing(shequyun_client)["reminder"]["reason"] == (
        "设置无效：设置中有不认识的项：sms；截止天数（deadline_days）：应为整数；"
        "remind_days_before：不能小于 0"
    )


@pytest.mark.parametrize("shequyun_settings", [settings_for(remind_by_sms=True)])
def test_unknown_settings_fail_the_plugin_when_the_schema_forbids_them(shequyun_client):
    listed = plugin_listing(shequyun_client)["reminder"]
    assert listed["state"] == "failed"
    assert listed["reason"] == "设置无效：设置中有不认识的项：remind_by_sms"


class TestWhenValidateSettingsRaises:
    class Broken:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def validate_settings(self, plugin, settings):
            return settings["lots"]  # not configured: KeyError

    @pytest.fixture
    def shequyun_plugins(self, reminder):
        return [self.Broken(), reminder]

    def test_the_plugin_is_failed_and_the_others_are_not(self, shequyun_client):
        listing = plugin_listing(shequyun_client)
        assert listing["parking"]["state"] == "failed"
        assert "hook validate_settings raised KeyError" in listing["parking"]["reason"]
        assert listing["reminder"]["state"] == "active"


class TestAPluginRequiringOneWithInvalidSettings:
    @pytest.fixture
    def shequyun_plugins(self, reminder):
        return [reminder, DependsOnReminder()]

    @pytest.fixture
    def shequyun_settings(self):
        return settings_for(deadline_days=3, remind_days_before=5)

    def test_fails_too(self, shequyun_client):
        listing = plugin_listing(shequyun_client)
        assert listing["reminder"]["state"] == "failed"
        assert listing["bureau_forms"]["state"] == "failed"
        assert "reminder" in listing["bureau_forms"]["reason"]
