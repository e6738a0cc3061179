"""register_permissions: permissions beyond the manifest's, e.g. those that depend on settings."""

from __future__ import annotations

import pytest
from shequyun_sdk import Permission, hookimpl

from ._plugins import manifest, plugin_listing


class Eldercare:
    """养老顾问: exporting the roster is a permission only where the district allows exports."""

    MANIFEST = manifest(
        "eldercare",
        "养老顾问",
        permissions=[{"name": "eldercare.visit", "title": {"zh": "登记上门服务"}}],
        settings_schema={
            "type": "object",
            "properties": {"allow_export": {"type": "boolean", "default": False}},
        },
    )

    @hookimpl
    def register_permissions(self, plugin):
        permissions = [Permission("eldercare.view_roster", "查看高龄老人名册", "View roster")]
        if plugin.settings["allow_export"]:
            permissions.append(Permission("eldercare.export", "导出高龄老人名册"))
        return permissions


class BrokenPermissions:
    MANIFEST = manifest(
        "parking",
        "停车管理",
        permissions=[{"name": "parking.assign", "title": {"zh": "分配车位"}}],
    )

    @hookimpl
    def register_permissions(self, plugin):
        raise RuntimeError("权限表读取失败")


class ForeignPermission:
    MANIFEST = manifest("deliberation", "议事厅")

    @hookimpl
    def register_permissions(self, plugin):
        return [Permission("kernel.manage_users", "管理用户")]


class NotPermissions:
    MANIFEST = manifest("garbage_sorting", "垃圾分类")

    @hookimpl
    def register_permissions(self, plugin):
        return [{"name": "garbage_sorting.inspect", "title": "检查分类投放"}]


@pytest.fixture
def shequyun_plugins():
    return [Eldercare(), BrokenPermissions(), ForeignPermission(), NotPermissions()]


@pytest.fixture
def shequyun_settings():
    return {"plugin_settings": {"eldercare": {"allow_export": True}}}


def test_permissions_are_collected_with_those_of_the_manifest(shequyun_kernel):
    permissions = shequyun_kernel.permissions.permissions
    assert permissions["eldercare.visit"].title == "登记上门服务"
    assert permissions["eldercare.view_roster"].title_en == "View roster"
    assert permissions["eldercare.export"].title == "导出高龄老人名册"


@pytest.mark.parametrize(
    "shequyun_settings", [{"plugin_settings": {"eldercare": {"allow_export": False}}}]
)
def test_settings_decide_which_permissions_exist(shequyun_kernel):
    permissions = shequyun_kernel.permissions.permissions
    assert "eldercare.view_roster" in permissions
    assert "eldercare.export" not in permissions


def test_a_raising_register_permissions_fails_the_plugin(shequyun_client, shequyun_kernel):
    parking = plugin_listing(shequyun_client)["parking"]
    assert parking["state"] == "failed"
    assert parking["reason"] == "hook register_permissions raised RuntimeError: 权限表读取失败"
    assert "parking.assign" not in shequyun_kernel.permissions.permissions
    assert plugin_listing(shequyun_client)["eldercare"]["state"] == "active"


def test_a_permission_outside_the_plugin_namespace_fails_the_plugin(
    shequyun_client, shequyun_kernel
):
    deliberation = plugin_listing(shequyun_client)["deliberation"]
    assert deliberation["state"] == "failed"
    assert "kernel.manage_users" in deliberation["reason"]
    assert "kernel.manage_users" not in shequyun_kernel.permissions.permissions


def test_returning_something_else_than_permissions_fails_the_plugin(shequyun_client):
    garbage_sorting = plugin_listing(shequyun_client)["garbage_sorting"]
    assert garbage_sorting["state"] == "failed"
    assert "must be a Permission" in garbage_sorting["reason"]


class TestARoleNamedInAPermission:
    """``permissions[].roles`` gives the permission to built-in roles by default: a misspelt
    role would give it to nobody, so the plugin is refused with the name."""

    class Meals:
        MANIFEST = manifest(
            "meals",
            "老年助餐",
            permissions=[
                {
                    "name": "meals.serve",
                    "title": {"zh": "登记助餐"},
                    "roles": ["identity.cadre", "identity.cadr"],
                },
                {"name": "meals.read", "title": {"zh": "查看助餐"}, "roles": ["identity.cadre"]},
            ],
        )

    class Reports:
        """Names a role of another plugin that is active: accepted."""

        MANIFEST = manifest(
            "reports",
            "报表",
            permissions=[
                {"name": "reports.read", "title": {"zh": "查看报表"}, "roles": ["eldercare.nurse"]}
            ],
        )

    class Nurses:
        MANIFEST = manifest(
            "eldercare",
            "养老顾问",
            roles=[{"name": "eldercare.nurse", "title": {"zh": "护理员"}, "permissions": []}],
        )

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Meals(), self.Reports(), self.Nurses()]

    @pytest.fixture
    def shequyun_settings(self):
        return {}

    def test_an_unknown_role_fails_the_plugin_naming_it(self, shequyun_client, shequyun_kernel):
        listing = plugin_listing(shequyun_client)
        assert listing["meals"]["state"] == "failed"
        assert "unknown roles: meals.serve → 'identity.cadr'" in listing["meals"]["reason"]
        assert "meals.read" not in shequyun_kernel.permissions.permissions
        assert listing["reports"]["state"] == "active"
        assert "reports.read" in shequyun_kernel.permissions.permissions_of("eldercare.nurse")
