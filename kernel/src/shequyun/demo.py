"""``shequyun demo``: every active plugin loads its demonstration data, kernel first."""

from __future__ import annotations

from sqlmodel import Session, col, select

from .identity.models import OrgUnit
from .kernel import Kernel

__all__ = ["load_demo"]


def load_demo(kernel: Kernel) -> list[str]:
    """Run each plugin's ``load_demo_data``, then switch specialty apps on where they say."""
    lines = []
    for record in kernel.host.active_records():
        summary = kernel.host.call(
            record,
            "load_demo_data",
            platform=kernel.platform,
            actor=kernel.platform.plugin_actor(record.name),
        )
        if not record.active:
            lines.append(f"{record.name}：演示数据加载失败：{record.reason}")
        elif summary:
            lines.append(f"{record.name}：{summary}")
    lines += _enable_demo_units(kernel)
    return lines


def _enable_demo_units(kernel: Kernel) -> list[str]:
    lines = []
    with Session(kernel.engine) as session:
        for record in kernel.host.active_records():
            codes = record.manifest.get("demo_units") or []
            units = list(session.exec(select(OrgUnit).where(col(OrgUnit.code).in_(codes))))
            for unit in units:
                assert unit.id is not None
                kernel.enablement.set_rule(session, record.name, unit.id, unit.path, True, None)
            if units:
                names = "、".join(u.name for u in units)
                lines.append(f"{record.name}：已为{names}开通")
        session.commit()
    return lines
