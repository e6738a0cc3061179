"""Default plugin ``attachments``: the file store records refer to (photos, scans, PDFs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shequyun_sdk import PluginContext, ScheduledJob, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from . import api
from .models import Attachment

if TYPE_CHECKING:  # the kernel imports this module: only for type checkers
    from ..kernel_platform import KernelPlatform

MANIFEST = {
    "name": "attachments",
    "version": VERSION,
    "title": {"zh": "附件", "en": "Attachments"},
    "description": {
        "zh": "上传、检查并按权限提供照片与文档",
        "en": "Upload, check and serve photos and documents by scope",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [Attachment]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.API_ROUTES


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.PORTAL_ROUTES


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: KernelPlatform) -> list[ScheduledJob]:
    """``kernel.attachments.prune``: unclaimed uploads and unreferenced files go, nightly."""

    def prune() -> str:
        with platform.session() as session:
            rows, files = platform.kernel.attachments.prune(session)
        return f"删除 {rows} 个未使用的上传和 {files} 个无引用的文件"

    return [ScheduledJob("prune", prune, daily_at="03:30")]
