"""A plugin that keeps references to residents, for the resident_merged hook tests."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import hookimpl

from ..quality.conftest import Town
from ._plugins import manifest


class Visits:
    """Keeps visits by resident id in memory, as a plugin keeps them in its table."""

    MANIFEST = manifest("visits", "走访记录")

    def __init__(self) -> None:
        self.visits: dict[int, int] = {}  # visit id -> resident id
        self.refuse = False

    @hookimpl
    def resident_merged(self, session, kept_id, merged_id):
        assert session is not None
        if self.refuse:
            raise RuntimeError("走访系统维护中")
        moved = [v for v, r in self.visits.items() if r == merged_id]
        for visit in moved:
            self.visits[visit] = kept_id
        return {"visits": moved} if moved else None

    @hookimpl
    def resident_merge_undone(self, merged_id, moved):
        for visit in moved["visits"]:
            self.visits[visit] = merged_id


def merge_pair(town: Town, district: Any) -> tuple[int, int, int]:
    first = town.add(name="许合并", born="19580808")
    town.serial += 1
    second = town.add("310115004002", name="许合并", born="19580808")
    town.kernel.quality.duplicates.find()
    pairs = town.client.get("/api/v1/quality/duplicates", headers=district.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {first, second}]
    return pair["id"], first, second
