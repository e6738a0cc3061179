"""``shequyun demo``: every active plugin loads its demonstration data, kernel first."""

from __future__ import annotations

from .kernel import Kernel

__all__ = ["load_demo"]


def load_demo(kernel: Kernel) -> list[str]:
    """Run each plugin's ``load_demo_data``; return the summaries (failures included)."""
    lines = []
    for record in kernel.host.active_records():
        summary = kernel.host.call(record, "load_demo_data", platform=kernel.platform)
        if not record.active:
            lines.append(f"{record.name}: demo data failed: {record.reason}")
        elif summary:
            lines.append(f"{record.name}: {summary}")
    return lines
