"""Plugins are found through entry points and each loads inside its own guard."""

from __future__ import annotations

import logging
import types
from typing import Any

import importlib_metadata
import pytest
from shequyun_sdk import hookimpl
from starlette.responses import JSONResponse
from starlette.routing import Route

from shequyun.kernel import Kernel
from shequyun.settings import load_settings

from .conftest import manifest_source


def make_plugin(name: str, *, sdk: str = ">=0.1,<0.2", **hooks: Any) -> types.ModuleType:
    """A plugin module called ``name`` whose hooks are the given functions."""
    module = types.ModuleType(f"test_plugin_{name}")
    module.MANIFEST = {
        "name": name,
        "version": "0.1",
        "title": {"zh": "测试", "en": "Test"},
        "description": {"zh": "测试", "en": "Test"},
        "sdk": sdk,
    }
    for hook_name, function in hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))
    return module


def states(client) -> dict[str, tuple[str, str]]:
    return {
        name: (r.state.value, r.reason) for name, r in client.app.state.kernel.host.records.items()
    }


def kernel_with(tmp_path, *plugins, **settings) -> Kernel:
    values = {"data_dir": tmp_path, "inline_worker": False, **settings}
    return Kernel(load_settings(environ={}, **values), plugins=plugins, discover=False)


class TestDiscovery:
    @pytest.fixture
    def shequyun_discover(self) -> bool:
        return True

    def test_hello_is_found_through_its_entry_point_not_by_path(self, shequyun_kernel):
        (entry,) = [
            ep
            for ep in importlib_metadata.entry_points(group="shequyun.plugins")
            if ep.name == "hello"
        ]
        assert entry.dist.name == "shequyun-hello"
        record = shequyun_kernel.host.records["hello"]
        assert record.active
        assert record.origin == "entry point shequyun_hello (shequyun-hello)"
        assert record.distribution == "shequyun-hello"

    def test_a_plugin_that_fails_to_import_is_failed_and_the_kernel_serves(
        self, fake_dists, monkeypatch, tmp_path
    ):
        root, make = fake_dists
        make("broken", "import a_module_that_does_not_exist\n")
        monkeypatch.syspath_prepend(str(root))
        kernel = Kernel(load_settings(environ={}, data_dir=tmp_path), discover=True)
        record = kernel.host.records["broken"]
        assert record.state == "failed"
        assert record.reason == (
            "import failed: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'"
        )
        assert record.origin == "entry point fake_broken (fake-broken)"
        assert kernel.host.records["hello"].active


def test_an_invalid_manifest_names_every_problem(tmp_path):
    plugin = make_plugin("badmanifest")
    plugin.MANIFEST = {**plugin.MANIFEST, "title": {"en": "no Chinese"}, "colour": "red"}
    record = kernel_with(tmp_path, plugin).host.records["badmanifest"]
    assert record.state == "failed"
    assert record.reason.startswith("invalid manifest:")
    assert "'colour' was unexpected" in record.reason
    assert "title: 'zh' is a required property" in record.reason


def test_audit_actions_are_named_after_their_plugin(tmp_path):
    plugin = make_plugin("lifts")
    plugin.MANIFEST = {
        **plugin.MANIFEST,
        "audit_actions": {
            "lifts.consulted": {"zh": "发起加装电梯征询"},
            "resident.updated": {"zh": "修改居民信息"},
        },
    }
    record = kernel_with(tmp_path, plugin).host.records["lifts"]
    assert record.state == "failed"
    assert "audit_actions: 'resident.updated' must start with 'lifts.'" in record.reason


def test_a_plugin_needing_another_sdk_is_refused(tmp_path):
    record = kernel_with(tmp_path, make_plugin("future", sdk=">=2")).host.records["future"]
    assert record.state == "failed"
    assert record.reason == "needs SDK >=2, but this platform provides SDK 1.4.0"


def test_a_plugin_without_manifest_is_refused(tmp_path):
    bare = types.ModuleType("bare")
    bare.MANIFEST = None
    record = kernel_with(tmp_path, bare).host.records["bare"]
    assert (record.state, record.reason) == ("failed", "the plugin has no MANIFEST")


def test_a_misspelt_hook_is_reported_not_ignored(tmp_path):
    plugin = make_plugin("typo", register_rotues=lambda plugin: [])
    record = kernel_with(tmp_path, plugin).host.records["typo"]
    assert (record.state, record.reason) == ("failed", "implements unknown hooks: register_rotues")


def test_an_argument_a_hook_does_not_offer_is_named_in_full(tmp_path):
    def register_nav(plugin, navigation_items):
        return []

    plugin = make_plugin("nav_typo", register_nav=register_nav)
    record = kernel_with(tmp_path, plugin).host.records["nav_typo"]
    assert record.state == "failed"
    assert "register_nav(plugin, navigation_items)" in record.reason
    assert "Argument(s) {'navigation_items'} are declared in the hookimpl" in record.reason
    assert record.reason.endswith("register_nav offers: plugin")


def test_a_plugin_asking_for_sdk_0_1_loads_under_1_0(tmp_path):
    """SDK 1.0 keeps the 0.1 contract whole (docs/plugins/compatibility.md)."""
    old = make_plugin("old", sdk=">=0.1,<0.2")
    newer = make_plugin("newer", sdk=">=0.2,<0.3")
    host = kernel_with(tmp_path, old, newer).host
    assert host.records["old"].state == "active"
    assert host.records["newer"].reason == (
        "needs SDK >=0.2,<0.3, but this platform provides SDK 1.4.0"
    )


def test_requirements_are_checked_and_order_follows_them(tmp_path):
    needs_missing = make_plugin("lonely")
    needs_missing.MANIFEST["requires"] = ["ghost"]
    base = make_plugin("zbase")
    child = make_plugin("achild")
    child.MANIFEST["requires"] = ["zbase"]
    host = kernel_with(tmp_path, needs_missing, child, base).host
    assert host.records["lonely"].reason == "requires plugins that are not active: ghost"
    order = [r.name for r in host.active_records()]
    assert order.index("zbase") < order.index("achild")
    from shequyun.defaults import DEFAULT_PLUGINS

    builtins = [m.MANIFEST["name"] for m in DEFAULT_PLUGINS]
    assert order[: len(builtins)] == builtins


def test_a_requirement_cycle_fails_both_plugins(tmp_path):
    one, two = make_plugin("one"), make_plugin("two")
    one.MANIFEST["requires"], two.MANIFEST["requires"] = ["two"], ["one"]
    host = kernel_with(tmp_path, one, two).host
    assert host.records["one"].state == host.records["two"].state == "failed"
    assert "cycle" in host.records["one"].reason


def test_failure_of_a_requirement_fails_its_dependents(tmp_path):
    base = make_plugin("base", sdk=">=5")
    child = make_plugin("child")
    child.MANIFEST["requires"] = ["base"]
    host = kernel_with(tmp_path, base, child).host
    assert host.records["child"].reason == "requires plugins that are not active: base"


def test_disabled_and_allow_listed_plugins_are_not_imported(tmp_path):
    imported = []

    class Tracking:
        def __init__(self, name):
            self.name = name

    from shequyun.plugin_host import Candidate, PluginHost

    settings = load_settings(environ={}, plugins_disabled=("off",), plugins_allowed=("on",))
    host = PluginHost(settings)
    host.load(
        [
            Candidate("off", "test", lambda: imported.append("off")),
            Candidate("other", "test", lambda: imported.append("other")),
            Candidate("on", "test", lambda: imported.append("on") or make_plugin("on")),
        ]
    )
    assert imported == ["on"]
    assert host.records["off"].state == "disabled"
    assert host.records["other"].state == "not_allowed"
    assert host.records["on"].active


def test_two_plugins_with_one_name_keep_the_first(tmp_path):
    first, second = make_plugin("twin"), make_plugin("twin")
    host = kernel_with(tmp_path, first, second).host
    assert host.records["twin"].module is first
    (clash,) = [r for n, r in host.records.items() if n.startswith("twin (")]
    assert clash.reason == "another plugin named 'twin' is already loaded"


def test_settings_are_validated_against_the_manifest_schema(tmp_path):
    plugin = make_plugin("configured")
    plugin.MANIFEST["settings_schema"] = {
        "type": "object",
        "properties": {"limit": {"type": "integer", "default": 10}},
        "additionalProperties": False,
    }
    good = kernel_with(tmp_path, plugin).host.records["configured"]
    assert good.context.settings == {"limit": 10}
    bad = kernel_with(
        tmp_path, plugin, plugin_settings={"configured": {"limit": "many"}}
    ).host.records["configured"]
    assert bad.reason == "设置无效：limit：应为整数"


def test_nested_settings_are_named_by_their_path_and_titles(tmp_path):
    plugin = make_plugin("sms")
    plugin.MANIFEST["settings_schema"] = {
        "type": "object",
        "properties": {
            "sender": {
                "title": "短信通道",
                "type": "object",
                "properties": {"sign": {"title": "短信签名", "type": "string", "maxLength": 8}},
                "required": ["api_key", "sign"],
            },
            "districts": {"title": "开通区", "type": "array", "items": {"pattern": "^[0-9]{12}$"}},
        },
        "required": ["sender"],
    }
    settings = {"sms": {"sender": {"sign": "浦东新区社区云短信平台"}, "districts": ["1", "x"]}}
    failed = kernel_with(tmp_path, plugin, plugin_settings=settings).host.records["sms"]
    assert failed.reason == (
        "设置无效：开通区（districts）[0]：格式不正确；开通区（districts）[1]：格式不正确；"
        "短信通道（sender）：缺少 api_key；短信通道（sender）.短信签名（sign）：不能超过 8 个字"
    )
    missing = kernel_with(tmp_path, plugin, plugin_settings={"sms": {}}).host.records["sms"]
    assert missing.reason == "设置无效：设置缺少 sender"


def test_a_route_that_raises_is_a_500_in_the_error_shape_and_charged_to_its_plugin(
    tmp_path, caplog
):
    def boom(request):
        raise RuntimeError("bug in plugin")

    plugin = make_plugin("buggy", register_api_routes=lambda plugin: [Route("/boom", boom)])
    from starlette.testclient import TestClient

    from shequyun.app import create_app

    kernel = kernel_with(tmp_path, plugin)
    kernel.upgrade_database()
    with TestClient(create_app(kernel=kernel), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/plugins/buggy/boom")
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "internal_error"
        assert response.headers["x-request-id"] in error["message"]
        assert client.get("/healthz").status_code == 200
    assert "unhandled error in plugin buggy" in caplog.text


def test_tracing_logs_every_hook_call(tmp_path, caplog):
    plugin = make_plugin("traced", register_nav=lambda plugin: [])
    from shequyun.app import create_app

    with caplog.at_level(logging.INFO, logger="shequyun.hooks"):
        create_app(kernel=kernel_with(tmp_path, plugin, trace_hooks=True))
    assert "call register_nav -> traced" in caplog.text
    assert "done register_nav" in caplog.text


def test_a_plugin_route_answers_under_its_mount(tmp_path):
    async def hi(request):
        return JSONResponse({"hi": request.scope["shequyun.plugin"].name})

    plugin = make_plugin("greeter", register_api_routes=lambda plugin: [Route("/hi", hi)])
    from starlette.testclient import TestClient

    from shequyun.app import create_app

    kernel = kernel_with(tmp_path, plugin)
    kernel.upgrade_database()
    with TestClient(create_app(kernel=kernel)) as client:
        assert client.get("/api/v1/plugins/greeter/hi").json() == {"hi": "greeter"}
        assert states(client)["greeter"] == ("active", "")


def test_manifest_helper_is_valid():
    namespace: dict[str, Any] = {}
    exec(manifest_source("x1"), namespace)
    from shequyun_sdk import check_manifest

    check_manifest(namespace["MANIFEST"])
