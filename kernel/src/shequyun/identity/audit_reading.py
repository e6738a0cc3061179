"""The audit log as people read it: what each action means, who did it, on what.

The log stores codes (``collection.exported``, ``campaign 1``, ``{"format": "csv"}``). Here
they become what a street admin reads: the action's Chinese title (the kernel's own below,
each plugin's from its manifest's ``audit_actions``), the actor's name and unit, the object's
name with a link to its page, and the details as labelled values. The 审计日志 page and its
download both use this, so they cannot differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select

from . import audit, scope
from .actors import actor_title
from .audit_log import AuditFilters, query_entries
from .models import AuditEntry, OrgUnit, User

__all__ = [
    "ACTION_GROUPS",
    "ACTION_TITLES",
    "EXPORT_HEADER",
    "OUTCOMES",
    "ActionCatalogue",
    "ReadableEntry",
    "catalogue_of",
    "export_rows",
    "readable",
]

#: The kernel's actions, for people reading the log.
ACTION_TITLES: dict[str, str] = {
    "access.denied": "越权访问被拒绝",
    "login.succeeded": "登录成功",
    "login.failed": "登录失败",
    "login.locked": "账户被锁定",
    "login.throttled": "登录过于频繁",
    "password.changed": "修改密码",
    "grant.switched": "切换身份",
    "token.rejected": "令牌被拒绝",
    "user.created": "新建用户",
    "user.updated": "修改用户",
    "user.unlocked": "解锁用户",
    "user.password_reset": "重置密码",
    "user.holder_confirmed": "确认账户持有人",
    "users.imported": "批量导入用户",
    "grant.created": "授予角色",
    "grant.revoked": "撤销授权",
    "token.created": "签发令牌",
    "token.revoked": "吊销令牌",
    "org.unit.created": "设立单位",
    "org.unit.renamed": "单位更名",
    "org.unit.moved": "移动单位",
    "org.unit.closed": "撤销单位",
    "org.unit.split": "拆分单位",
    "org.unit.merged": "合并单位",
    "org.units.imported": "导入组织名册",
    "plugin.enablement_changed": "插件开关",
    "resident.created": "登记居民",
    "resident.updated": "修改居民信息",
    "resident.transferred": "居民迁出",
    "resident.removed": "注销居民",
    "resident.revealed": "查看完整身份信息",
    "resident.exported": "下载居民名单",
    "resident.imported": "导入居民",
    "quality.rule_saved": "保存数据质量规则",
    "quality.confirmed": "核实居民信息",
    "quality.waived": "标记核实无误",
    "quality.unwaived": "撤销核实无误",
    "quality.merged": "合并重复居民记录",
    "quality.merge_undone": "撤销合并",
    "quality.not_duplicate": "标记不是同一人",
    "quality.round_started": "发起居民信息核对",
    "collection.form_created": "新建采集表单",
    "collection.form_draft_saved": "保存表单草稿",
    "collection.form_published": "发布采集表单",
    "collection.campaign_opened": "发起采集",
    "collection.reminded": "催报提醒",
    "collection.returned": "退回填报",
    "collection.exported": "导出采集结果",
    "indicators.exported": "下载指标数据",
    "calendar.day_set": "设置工作日历",
    "calendar.day_cleared": "清除工作日历设置",
    "app.registered": "注册外部应用",
    "app.updated": "修改外部应用",
    "app.enabled": "启用外部应用",
    "app.disabled": "停用外部应用",
    "app.units_changed": "修改应用可用单位",
    "app.secret_rotated": "更换应用密钥",
    "app.webhook_secret_rotated": "更换回调签名密钥",
    "app.webhooks_paused": "暂停回调",
    "app.webhooks_resumed": "恢复回调",
    "app.webhook_replayed": "重发回调",
    "audit.exported": "下载审计日志",
}

#: Kinds of action a reader filters by: (prefix, title). Plugins add one each, by their title.
ACTION_GROUPS: tuple[tuple[str, str], ...] = (
    ("login.", "登录"),
    ("access.", "越权访问"),
    ("user", "用户"),
    ("grant.", "授权与身份"),
    ("token.", "访问令牌"),
    ("org.", "组织架构"),
    ("resident.", "居民信息"),
    ("quality.", "数据质量"),
    ("collection.", "数据采集"),
    ("indicators.", "指标"),
    ("calendar.", "工作日历"),
    ("app.", "外部应用"),
    ("plugin.", "插件"),
    ("audit.", "审计日志"),
)

OUTCOMES = {"ok": "成功", "denied": "拒绝"}

TARGET_TITLES = {
    "user": "用户",
    "grant": "授权",
    "token": "令牌",
    "org_unit": "单位",
    "unit": "单位",
    "org_import": "组织名册",
    "plugin": "插件",
    "resident": "居民",
    "form": "表单",
    "campaign": "采集",
    "task": "填报任务",
    "app": "外部应用",
    "calendar_day": "日期",
    "quality_rule": "质量规则",
    "quality_round": "核对",
    "duplicate": "疑似重复",
}

#: Detail keys that mean the same everywhere, in Chinese.
DETAIL_TITLES = {
    "format": "格式",
    "reason": "原因",
    "purpose": "用途",
    "rows": "行数",
    "count": "条数",
    "within": "范围",
    "field": "字段",
    "fields": "字段",
    "added": "加上",
    "removed": "去掉",
    "batch": "同批人数",
    "changed": "改动",
    "filters": "筛选条件",
    "role": "角色",
    "unit": "单位",
    "unit_code": "单位",
    "from_unit_code": "迁出单位",
    "to_unit_code": "迁入单位",
    "enabled": "开启",
    "name": "名称",
    "title": "标题",
    "version": "版本",
    "units": "单位数",
    "username": "用户名",
    "permission": "所需权限",
    "path": "地址",
    "method": "方法",
    "filename": "文件",
    "created": "新增",
    "updated": "更新",
    "scope": "范围",
    "days": "天数",
    "effective_on": "生效日期",
    "old_name": "原名称",
    "new_name": "新名称",
    "parent": "上级",
    "expires_at": "到期时间",
    "user_id": "用户编号",
    "grant_id": "授权编号",
    "prefix": "令牌前缀",
    "via": "方式",
    "source": "来源",
    "by_level": "各层级数",
    "from": "原",
    "to": "新",
    "generated": "系统生成",
    "sessions_ended": "结束的会话",
    "file": "文件",
    "grants": "授权数",
    "users": "用户数",
    "row": "行",
    "unchanged": "未变",
    "street": "街镇",
    "committee": "居村委",
    "district": "区",
}

#: Values that are codes, in words.
VALUE_TITLES = {
    "import": "批量导入",
    "portal": "门户",
    "api": "接口",
    "collection": "数据采集",
    "plugin": "插件",
}
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)")


@dataclass(frozen=True)
class ActionCatalogue:
    """Every action's title, and the kinds a reader filters by (each with its actions)."""

    titles: Mapping[str, str]
    groups: Sequence[tuple[str, str, Sequence[tuple[str, str]]]]
    #: Plugins' titles by name, for entries a plugin wrote as itself.
    plugins: Mapping[str, str] = field(default_factory=dict)
    #: Titles of the record fields details name (``phone`` 电话), given by the services.
    fields: Mapping[str, str] = field(default_factory=dict)

    def title(self, action: str) -> str:
        return self.titles.get(action, "")


def catalogue_of(
    manifests: Iterable[Mapping[str, Any]], fields: Mapping[str, str] | None = None
) -> ActionCatalogue:
    """The kernel's actions with those the given plugin manifests declare; ``fields`` titles
    the record fields entries name in their details."""
    titles = dict(ACTION_TITLES)
    groups = [(prefix, title) for prefix, title in ACTION_GROUPS]
    plugins: dict[str, str] = {}
    for manifest in manifests:
        plugins[str(manifest["name"])] = str((manifest.get("title") or {}).get("zh") or "")
        declared = manifest.get("audit_actions") or {}
        if not declared:
            continue
        for action, names in declared.items():
            titles[action] = str(names.get("zh") or action)
        groups.append((f"{manifest['name']}.", str((manifest.get("title") or {}).get("zh"))))
    listed = [
        (prefix, title, sorted((a, t) for a, t in titles.items() if a.startswith(prefix)))
        for prefix, title in groups
    ]
    named = {n: t for n, t in plugins.items() if t}
    return ActionCatalogue(titles, listed, named, dict(fields or {}))


@dataclass(frozen=True)
class ReadableEntry:
    """One line of the log as a person reads it."""

    id: int
    at: Any
    action: str
    action_title: str
    outcome: str
    actor_name: str
    actor_login: str
    unit_name: str
    unit_trail: str
    target_label: str
    target_href: str | None
    target_filter: dict[str, str] | None
    details: list[tuple[str, str]]
    client_ip: str


def readable(
    session: Session,
    reader: Actor,
    rows: Sequence[tuple[AuditEntry, OrgUnit | None]],
    catalogue: ActionCatalogue,
) -> list[ReadableEntry]:
    """``rows`` (from :func:`.audit_log.query_entries`) as people read them, in four queries."""
    users = _users(session, {e.actor_user_id for e, _ in rows if e.actor_user_id})
    units = [u for _, u in rows if u is not None]
    trails = _trails(session, units)
    names = _target_names(session, reader, [e for e, _ in rows])
    found: list[ReadableEntry] = []
    for entry, unit in rows:
        user = users.get(entry.actor_user_id or 0)
        kind = entry.target_type or ""
        target_id = entry.target_id or ""
        name, href = names.get((kind, target_id), ("", None))
        label = TARGET_TITLES.get(kind, kind)
        if name:
            label = f"{label} {name}"
        elif target_id:
            label = f"{label} {target_id}"
        found.append(
            ReadableEntry(
                id=entry.id or 0,
                at=entry.at,
                action=entry.action,
                action_title=catalogue.title(entry.action),
                outcome=entry.outcome,
                actor_name=actor_title(
                    entry.actor_username,
                    user.display_name if user else None,
                    catalogue.plugins,
                    nobody="—",
                ),
                actor_login=entry.actor_username or "",
                unit_name=unit.name if unit else "",
                unit_trail=trails.get(unit.id or 0, "") if unit else "",
                target_label=label.strip(),
                target_href=href,
                target_filter={"target_type": kind, "target_id": target_id}
                if kind and target_id
                else None,
                details=_details(entry.detail or {}, catalogue.fields),
                client_ip=entry.client_ip or "",
            )
        )
    return found


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id or 0: u for u in session.exec(select(User).where(col(User.id).in_(ids))).all()}


def _trails(session: Session, units: list[OrgUnit]) -> dict[int, str]:
    """District › street above each unit (the city left out), since committee names repeat."""
    chains = {u.id or 0: [int(p) for p in u.path.strip("/").split("/")[:-1]] for u in units}
    ids = {i for chain in chains.values() for i in chain}
    if not ids:
        return {}
    above = session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(ids))).all()
    named = {u.id: u for u in above if u.level != "city"}
    return {
        k: " › ".join(named[i].name for i in chain if i in named) for k, chain in chains.items()
    }


def _target_names(
    session: Session, reader: Actor, entries: list[AuditEntry]
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Names and pages of the objects the entries are about, where the kernel knows them."""
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if entry.target_type and entry.target_id:
            wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    user_ids = {int(i) for i in wanted.get("user", ()) if i.isdigit()}
    for user in _users(session, user_ids).values():
        found[("user", str(user.id))] = (user.display_name, f"/admin/users/{user.id}")
    codes = wanted.get("org_unit", set()) | wanted.get("unit", set())
    if codes:
        for unit in session.exec(select(OrgUnit).where(col(OrgUnit.code).in_(codes))).all():
            for kind in ("org_unit", "unit"):
                found[(kind, unit.code)] = (unit.name, f"/admin/org/{unit.code}")
    found.update(_resident_names(session, reader, wanted.get("resident", set())))
    found.update(_collection_names(session, wanted))
    return found


def _resident_names(
    session: Session, reader: Actor, ids: set[str]
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Residents by name, only for a reader who may read them (the log itself does not say)."""
    from ..residents.models import Resident

    numbers = {int(i) for i in ids if i.isdigit()}
    if not numbers:
        return {}
    rows = session.exec(
        select(col(Resident.id), col(Resident.name)).where(
            col(Resident.id).in_(numbers),
            scope.scope_filter(reader, "residents.read", col(Resident.unit_id)),
        )
    ).all()
    return {("resident", str(rid)): (name, f"/residents/{rid}") for rid, name in rows}


def _collection_names(
    session: Session, wanted: Mapping[str, set[str]]
) -> dict[tuple[str, str], tuple[str, str | None]]:
    from ..collection.models import Campaign, Form

    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    campaigns = {int(i) for i in wanted.get("campaign", ()) if i.isdigit()}
    if campaigns:
        for cid, title in session.exec(
            select(col(Campaign.id), col(Campaign.title)).where(col(Campaign.id).in_(campaigns))
        ).all():
            found[("campaign", str(cid))] = (title, f"/collection/campaigns/{cid}")
    forms = {int(i) for i in wanted.get("form", ()) if i.isdigit()}
    if forms:
        for fid, title in session.exec(
            select(col(Form.id), col(Form.title)).where(col(Form.id).in_(forms))
        ).all():
            found[("form", str(fid))] = (title, f"/collection/forms/{fid}")
    return found


#: Detail keys whose values are names of record fields.
FIELD_KEYS = {"field", "fields"}


def _details(detail: Mapping[str, Any], fields: Mapping[str, str]) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    for key in sorted(detail):
        value = detail[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        if key in FIELD_KEYS and isinstance(value, (str, list)):
            named = [value] if isinstance(value, str) else value
            text = "、".join(fields.get(str(v), str(v)) for v in named)
        elif isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = "；".join(f"{DETAIL_TITLES.get(k, k)} {v}" for k, v in value.items())
        elif isinstance(value, str) and _MOMENT.fullmatch(value):
            text = _beijing(datetime.fromisoformat(value.replace("Z", "+00:00")))
        else:
            text = VALUE_TITLES.get(str(value), str(value))
        shown.append((DETAIL_TITLES.get(key, key), text))
    return shown


EXPORT_HEADER = (
    "时间（北京时间）",
    "动作",
    "操作人",
    "操作人用户名",
    "单位",
    "单位所在",
    "对象",
    "详情",
    "结果",
    "IP",
)


def export_rows(
    session: Session,
    reader: Actor,
    filters: AuditFilters,
    catalogue: ActionCatalogue,
    asked: Mapping[str, str],
    fmt: str,
) -> list[list[str]]:
    """The entries ``filters`` select, as the download's rows; the download is itself audited."""
    rows = query_entries(session, reader, filters)[: filters.limit]
    shown = readable(session, reader, rows, catalogue)
    audit.record(
        session,
        "audit.exported",
        actor=reader,
        unit_id=reader.unit.id if reader.unit else None,
        detail={"format": fmt, "rows": len(shown), "filters": dict(asked)},
    )
    return [
        [
            _beijing(e.at),
            e.action_title or e.action,
            e.actor_name,
            e.actor_login,
            e.unit_name,
            e.unit_trail,
            e.target_label,
            "；".join(f"{k}：{v}" for k, v in e.details),
            OUTCOMES.get(e.outcome, e.outcome),
            e.client_ip,
        ]
        for e in shown
    ]


BEIJING = timezone(timedelta(hours=8))


def _beijing(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
