"""Generated residents in the test slice of Shanghai, and residents planted for each rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from shequyun.quality.models import Finding
from shequyun.residents.generate_bulk import bulk_load
from shequyun.residents.idnumber import check_digit
from shequyun.residents.models import Resident

SIZES = {"310115004001": 120, "310115004002": 40, "310104003001": 60}
HOME = "310115004001"


def id_number(born: str, serial: int, region: str = "310115") -> str:
    first = f"{region}{born}{serial:03d}"
    return first + check_digit(first)


@dataclass
class Town:
    kernel: Any
    units: dict[str, Any]
    actors: Any
    client: Any
    drain: Any
    serial: int = 500
    cadres: dict[str, Any] = field(default_factory=dict)

    def cadre(self, code: str = HOME) -> Any:
        if code not in self.cadres:
            self.cadres[code] = self.actors.cadre(code)
        return self.cadres[code]

    def add(self, unit: str = HOME, *, born: str = "19800101", **values: Any) -> int:
        """Register a resident through the service, complete and plausible unless told."""
        self.serial += 1
        data: dict[str, Any] = {
            "name": f"测试{self.serial}",
            "id_number": id_number(born, self.serial),
            "registration": "户籍",
            "phone": f"139{self.serial:08d}",
            "address": {"compound": "测试小区", "building": "1", "entrance": "1", "room": "101"},
            "household_number": f"T-{self.serial}",
            "unit_code": unit,
        }
        data.update(values)
        data = {k: v for k, v in data.items() if v is not None}
        with Session(self.kernel.engine) as session:
            resident = self.kernel.residents.create(
                session, self.cadre(unit).actor, data, source="api"
            )
            session.commit()
            assert resident.id is not None
            return resident.id

    def update(self, resident_id: int, unit: str = HOME, **changes: Any) -> None:
        with Session(self.kernel.engine) as session:
            version = session.get(Resident, resident_id).version
            self.kernel.residents.update(
                session, self.cadre(unit).actor, resident_id, changes, version=version, source="api"
            )
            session.commit()

    def age_record(self, resident_id: int, when: datetime) -> None:
        """Make the record look last changed at ``when``."""
        with Session(self.kernel.engine) as session:
            session.exec(update(Resident).where(Resident.id == resident_id).values(updated_at=when))
            session.commit()

    def findings(self, rule: str | None = None) -> dict[str, set[int]]:
        """Open findings: rule code → resident ids."""
        found: dict[str, set[int]] = {}
        with Session(self.kernel.engine) as session:
            query = select(Finding.rule_code, Finding.resident_id)
            if rule:
                query = query.where(Finding.rule_code == rule)
            for code, resident_id in session.exec(query):
                found.setdefault(code, set()).add(resident_id)
        return found

    def of(self, resident_id: int) -> set[str]:
        """The rules that hold for one resident."""
        return {code for code, ids in self.findings().items() if resident_id in ids}


@pytest.fixture
def town(shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors, drain_events) -> Town:
    committees = [shequyun_units[code] for code in SIZES]
    bulk_load(shequyun_kernel.engine, shequyun_kernel.residents.cipher, committees, SIZES, 21)
    return Town(shequyun_kernel, shequyun_units, shequyun_actors, shequyun_client, drain_events)


LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
