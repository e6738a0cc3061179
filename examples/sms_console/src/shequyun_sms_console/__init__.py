"""A development SMS adapter: every SMS the platform would send is written to the log instead.

**Not for production.** Codes that prove a phone (``interaction.sms`` of the 居社互动 plugin)
are secrets; this adapter prints them so that a developer or a demo can sign up without an SMS
gateway. A real adapter subscribes to the same event and hands ``phone`` and ``text`` (or the
template ``params``) to the gateway. The platform's notices to cadres (新任务, 催报提醒, 退回,
即将截止) leave as ``notice.created`` with the same ``phone`` and ``text``; an account without
a phone gets the notice in the portal only.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import Event, Platform, PluginContext, Subscriber, hookimpl

MANIFEST = {
    "name": "sms_console",
    "version": "0.1.0",
    "title": {"zh": "开发用短信（写入日志）", "en": "Development SMS (to the log)"},
    "description": {
        "zh": "把短信写入日志而不发送，仅供开发和演示，切勿在生产环境安装",
        "en": "Writes SMS to the log instead of sending them; development only",
    },
    "sdk": ">=1.0,<2",
}

WARNING = (
    "开发用短信适配器 sms_console 已启用：短信（含验证码）只写入日志、不会发出，切勿用于生产环境"
)


@hookimpl
def on_startup(plugin: PluginContext, platform: Platform) -> None:
    plugin.logger.warning(WARNING)


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def write(event: Event) -> None:
        phone = str(event.payload.get("phone", ""))
        plugin.logger.warning(
            "[开发用短信，未发出] → %s（%s）：%s",
            phone,
            event.payload.get("purpose") or event.payload.get("kind", ""),
            event.payload.get("text", ""),
        )

    def notice(event: Event) -> None:
        if event.payload.get("phone"):
            write(event)

    return [
        Subscriber("interaction.sms", write, name="write"),
        Subscriber("notice.created", notice, name="notice"),
    ]
