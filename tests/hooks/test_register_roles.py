"""register_roles: roles beyond the manifest's, bundling the permissions of active plugins."""

from __future__ import annotations

import pytest
from shequyun_sdk import Permission, Role, hookimpl

from ._plugins import manifest, plugin_listing


class Eldercare:
    """养老顾问: the advisor role may be granted at street and committee level only."""

    MANIFEST = manifest(
        "eldercare",
        "养老顾问",
        permissions=[
            {"name": "eldercare.visit", "title": {"zh": "登记上门服务"}},
            {"name": "eldercare.view_roster", "title": {"zh": "查看高龄老人名册"}},
        ],
        roles=[
            {
                "name": "eldercare.supervisor",
                "title": {"zh": "养老服务督导"},
                "permissions": ["eldercare.view_roster"],
                "levels": ["district"],
            }
        ],
    )

    @hookimpl
    def register_roles(self, plugin):
        return [
            Role(
                name="eldercare.advisor",
                title="养老顾问",
                title_en="Elderly-care advisor",
                permissions=("eldercare.visit", "eldercare.view_roster"),
                levels=("street", "committee"),
            )
        ]


class Noticeboard:
    """Its editors may also raise topics in the 议事厅: a role across two plugins."""

    MANIFEST = manifest(
        "noticeboard",
        "社区公告",
        permissions=[{"name": "noticeboard.publish", "title": {"zh": "发布公告"}}],
    )

    @hookimpl
    def register_roles(self):
        return [
            Role(
                "noticeboard.editor",
                "公告编辑",
                permissions=("noticeboard.publish", "deliberation.raise_topic"),
            )
        ]


class Deliberation:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_permissions(self):
        # A permission may join a role of another plugin by default.
        return [Permission("deliberation.raise_topic", "发起议题", roles=("eldercare.advisor",))]


class BrokenRoles:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def register_roles(self):
        raise RuntimeError("角色配置缺失")


class UnknownPermission:
    MANIFEST = manifest("garbage_sorting", "垃圾分类")

    @hookimpl
    def register_roles(self):
        return [Role("garbage_sorting.volunteer", "分类志愿者", ("garbage_sorting.inspect",))]


@pytest.fixture
def shequyun_plugins():
    return [Eldercare(), Noticeboard(), Deliberation(), BrokenRoles(), UnknownPermission()]


def test_roles_are_collected_with_those_of_the_manifest(shequyun_kernel):
    registry = shequyun_kernel.permissions
    assert registry.roles["eldercare.supervisor"].levels == ("district",)
    advisor = registry.roles["eldercare.advisor"]
    assert advisor.title == "养老顾问"
    assert advisor.permissions == ("eldercare.visit", "eldercare.view_roster")


def test_a_role_bundles_its_permissions_and_those_that_name_it(shequyun_kernel):
    registry = shequyun_kernel.permissions
    assert registry.permissions_of("eldercare.advisor") == {
        "eldercare.visit",
        "eldercare.view_roster",
        "deliberation.raise_topic",
    }
    assert registry.permissions_of("noticeboard.editor") == {
        "noticeboard.publish",
        "deliberation.raise_topic",
    }


def test_levels_say_where_a_role_may_be_granted(shequyun_kernel):
    registry = shequyun_kernel.permissions
    assert registry.role_allowed_at("eldercare.advisor", "committee")
    assert not registry.role_allowed_at("eldercare.advisor", "city")
    assert registry.role_allowed_at("noticeboard.editor", "city")  # no levels: anywhere


def test_a_raising_register_roles_fails_the_plugin(shequyun_client):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert parking["reason"] == "hook register_roles raised RuntimeError: 角色配置缺失"


def test_a_role_with_an_unknown_permission_fails_the_plugin(shequyun_client, shequyun_kernel):
    garbage_sorting = plugin_listing(shequyun_client)["garbage_sorting"]
    assert garbage_sorting["state"] == "failed"
    assert "garbage_sorting.inspect" in garbage_sorting["reason"]
    assert "garbage_sorting.volunteer" not in shequyun_kernel.permissions.roles


class TestARoleNamingAPermissionOfAFailedPlugin:
    class Parking:
        MANIFEST = manifest(
            "parking",
            "停车管理",
            permissions=[{"name": "parking.assign", "title": {"zh": "分配车位"}}],
        )

        @hookimpl
        def register_permissions(self):
            raise RuntimeError("车位数据缺失")

    class Committee:
        MANIFEST = manifest("committee_office", "居委办公")

        @hookimpl
        def register_roles(self):
            return [Role("committee_office.clerk", "居委文员", ("parking.assign",))]

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Parking(), self.Committee()]

    def test_fails_the_plugin_that_defines_the_role(self, shequyun_client, shequyun_kernel):
        assert plugin_listing(shequyun_client)["parking"]["state"] == "failed"
        committee_office = plugin_listing(shequyun_client)["committee_office"]
        assert committee_office["state"] == "failed"
        assert "parking.assign" in committee_office["reason"]
