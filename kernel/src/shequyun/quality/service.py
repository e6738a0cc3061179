"""Data-quality use cases: rules, scans, keeping findings current, the to-do list, decisions.

Every rule of the feature lives here (who may add a rule and where, which findings a cadre
sees, who may confirm a record or waive a finding, what is audited); the API and the pages
translate. Scores and trends are in :mod:`.scores`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk import Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.indicators import BEIJING
from sqlalchemy import delete, func, tuple_, union
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..events import EventBus
from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from ..residents.models import Household, Resident, ResidentChange
from ..residents.service import WRITE, ResidentService
from . import candidates, scores
from . import engine as findings_engine
from .checks import Context
from .duplicates import Duplicates
from .models import Confirmation, Finding, RuleState, RuleVersion, Waiver
from .rules import Rule, clean_rule, effective_rules, from_version
from .scores import Score

__all__ = ["MANAGE", "READ", "QualityService", "ScanResult", "beijing_today", "load_rules"]

READ = "quality.read"
#: The resident events after which findings can change.
CHANGES = {"resident.created", "resident.updated", "resident.moved", "resident.removed"}
#: The fields an update must touch for a record to pair (or stop pairing) with another.
PAIRING = {"name", "gender", "birth_date", "phone", "status"}
MANAGE = "quality.manage"


def utcnow() -> datetime:
    return datetime.now(UTC)


def beijing_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BEIJING).date()


@dataclass
class ScanResult:
    """What a scan rewrote: findings per rule, and the rules it looked at."""

    findings: dict[str, int]

    @property
    def summary(self) -> str:
        if not self.findings:
            return "规则未变，无需重新检查"
        total = sum(self.findings.values())
        return f"检查规则 {len(self.findings)} 条，发现问题 {total} 处"


class QualityService:
    """The data-quality feature over one database."""

    def __init__(self, engine: Engine, residents: ResidentService, events: EventBus) -> None:
        self.engine = engine
        self.residents = residents
        self.events = events
        self.duplicates = Duplicates(engine, residents, events)

    # -- rules -----------------------------------------------------------------------------

    def rules(self, session: Session, *, include_inactive: bool = False) -> list[Rule]:
        """The rules in force: shipped, overlaid by the newest version saved in the portal."""
        return load_rules(session, include_inactive=include_inactive)

    def visible_rules(self, session: Session, actor: Actor) -> list[Rule]:
        """Rules whose findings ``actor`` may meet: the city's and those of their area."""
        self._require(actor, READ)
        assert actor.unit is not None
        path = actor.unit.path
        return [
            r
            for r in self.rules(session, include_inactive=True)
            if r.unit_path is None or path.startswith(r.unit_path) or r.unit_path.startswith(path)
        ]

    def rule_versions(self, session: Session, actor: Actor, code: str) -> list[RuleVersion]:
        """Every saved version of rule ``code``, newest first."""
        self._require(actor, READ)
        return list(
            session.exec(
                select(RuleVersion)
                .where(RuleVersion.code == code)
                .order_by(col(RuleVersion.version).desc())
            )
        )

    def save_rule(self, session: Session, actor: Actor, data: Mapping[str, Any]) -> Rule:
        """Add a rule, or a new version of one, for the actor's own area (city or district).

        The city may change any rule, shipped ones included; a district only rules it added.
        The findings follow in the background: the ``quality.rule_saved`` event's subscriber
        evaluates the rule over the city.
        """
        self._require(actor, MANAGE)
        unit = self._unit(session, actor)
        if unit.level not in {"city", "district"}:
            raise Forbidden("质量规则由市或区设置")
        values = clean_rule(data)
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise ValidationFailed("active 应为 true 或 false", field="active")
        current = {r.code: r for r in self.rules(session, include_inactive=True)}.get(
            values["code"]
        )
        if current is not None and unit.level != "city" and current.unit_id != unit.id:
            raise Forbidden("该规则由市或其他区设置，只能由设置者修改", field="code")
        assert unit.id is not None
        row = RuleVersion(
            **values,
            version=(current.version + 1) if current else 1,
            unit_id=unit.id,
            active=active,
            created_by=actor.username,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            "quality.rule_saved",
            actor=actor,
            target_type="quality_rule",
            target_id=values["code"],
            detail={"version": row.version, "active": active, "check": values["check"]},
        )
        self.events.publish(
            session, "quality.rule_saved", {"code": row.code, "version": row.version}
        )
        return from_version(row, None if unit.level == "city" else unit.path)

    # -- scans -----------------------------------------------------------------------------

    def scan(
        self,
        *,
        changed_only: bool = False,
        timely_only: bool = False,
        now: datetime | None = None,
    ) -> ScanResult:
        """Rewrite findings for the whole city, one transaction per rule.

        ``changed_only``: only rules whose version differs from the one last evaluated (new,
        changed or switched off); ``timely_only``: only rules whose answer moves with the date
        (ages, months since a check), which the daily job runs.
        """
        now = now or utcnow()
        ctx = Context(today=beijing_today(now), now=now)
        with Session(self.engine) as session:
            rules = self.rules(session, include_inactive=True)
            states = {s.code: s.version for s in session.exec(select(RuleState))}
        chosen = [
            r
            for r in rules
            if (not changed_only or states.get(r.code) != r.version)
            and (not timely_only or (r.timely and r.active))
        ]
        written: dict[str, int] = {}
        for rule in chosen:
            with self.engine.begin() as connection:
                written.update(findings_engine.evaluate(connection, [rule], ctx))
                with Session(bind=connection) as session:
                    state = session.get(RuleState, rule.code) or RuleState(
                        code=rule.code, version=rule.version
                    )
                    state.version, state.evaluated_at = rule.version, now
                    state.findings = written[rule.code]
                    session.add(state)
                    session.flush()
        if changed_only:
            with self.engine.begin() as connection:
                findings_engine.forget_rules(connection, [r.code for r in rules if r.active])
        return ScanResult(written)

    # -- kept current ----------------------------------------------------------------------

    def refresh(
        self, session: Session, resident_ids: Iterable[int], *, now: datetime | None = None
    ) -> None:
        """Re-evaluate every rule for these residents and everyone they are grouped with."""
        touched = self.touched(session, resident_ids)
        if not touched:
            return
        now = now or utcnow()
        ctx = Context(today=beijing_today(now), now=now, touched=sorted(touched))
        findings_engine.evaluate_touched(session.connection(), self.rules(session), ctx)

    def touched(self, session: Session, resident_ids: Iterable[int]) -> set[int]:
        """The residents whose findings can change when ``resident_ids`` change: themselves,
        their households' members, those sharing a phone or a name and birth date with them,
        and those they shared a finding's group with before the change."""
        ids = set(resident_ids)
        if not ids:
            return set()
        people = session.exec(
            select(  # type: ignore[call-overload]
                Resident.household_id, Resident.phone_hash, Resident.name, Resident.birth_date
            ).where(col(Resident.id).in_(ids))
        ).all()
        households = {h for h, _, _, _ in people if h is not None}
        phones = {p for _, p, _, _ in people if p is not None}
        persons = {(n, b) for _, _, n, b in people}
        before = session.exec(
            select(Finding.rule_code, Finding.group_key, Finding.household_id).where(
                col(Finding.resident_id).in_(ids)
            )
        ).all()
        households |= {h for _, _, h in before if h is not None}
        groups = {(rule, key) for rule, key, _ in before if key is not None}
        # Everyone grouped with them, in one round trip.
        resident_id = col(Resident.id)
        near: list[Any] = []
        if households:
            near.append(select(resident_id).where(col(Resident.household_id).in_(households)))
        if phones:
            near.append(select(resident_id).where(col(Resident.phone_hash).in_(phones)))
        if persons:
            person = tuple_(col(Resident.name), col(Resident.birth_date))
            near.append(select(resident_id).where(person.in_(list(persons))))
        if groups:
            group = tuple_(col(Finding.rule_code), col(Finding.group_key))
            near.append(select(col(Finding.resident_id)).where(group.in_(list(groups))))
        found = set(ids)
        if near:
            found |= _ids(session, union(*near) if len(near) > 1 else near[0])
        return found

    def on_resident_events(
        self, session: Session, events: Iterable[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Keep findings and duplicate candidates current after a batch of ``resident.*``
        events: the subscriber's work.

        The residents of every event are refreshed together, in ``session`` (the delivery's
        transaction): an import of a household's two thousand members evaluates the household
        once per batch, not once per member. The changed records' duplicate candidates are
        looked up by index (:mod:`.candidates`), so a pair shows on the review page within
        moments, not after the night's search.
        """
        changed: set[int] = set()
        ids: set[int] = set()
        for event_type, payload in events:
            resident_id = payload.get("resident_id")
            if event_type not in CHANGES or not isinstance(resident_id, int):
                continue
            ids.add(resident_id)
            ids |= self._left_households(session, event_type, payload)
            fields = payload.get("fields")
            if event_type != "resident.updated" or not fields or PAIRING & set(fields):
                changed.add(resident_id)
        self.refresh(session, ids)
        candidates.pairs_for(session.connection(), changed)

    def _left_households(
        self, session: Session, event_type: str, payload: Mapping[str, Any]
    ) -> set[int]:
        """Members of the household the resident just left (its findings may change): an update
        of the 户号, or a transfer, which clears it; the history names the household left."""
        if event_type == "resident.updated":
            if "household_number" not in payload.get("fields", ()):
                return set()
        elif event_type != "resident.moved":
            return set()
        change = session.exec(
            select(ResidentChange.old_value, ResidentChange.unit_id).where(
                ResidentChange.resident_id == payload["resident_id"],
                ResidentChange.version == payload.get("version"),
                ResidentChange.field == "household_number",
            )
        ).first()
        if change is None or not change[0]:
            return set()
        members = (
            select(col(Resident.id))
            .join(Household, col(Household.id) == col(Resident.household_id))
            .where(Household.unit_id == change[1], Household.number == change[0])
        )
        return _ids(session, members)

    # -- the to-do list --------------------------------------------------------------------

    def findings(
        self,
        session: Session,
        actor: Actor,
        *,
        unit_code: str | None = None,
        level: str | None = None,
        rule: str | None = None,
        resident_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The open findings ``actor`` may see (their grant's area, or ``unit_code`` in it),
        errors first; ``(total, page)``."""
        self._require(actor, READ)
        if level is not None and level not in {"error", "warning"}:
            raise ValidationFailed("level 应为 error 或 warning", field="level")
        conditions = [scope.scope_filter(actor, READ, col(Finding.unit_id))]
        if unit_code:
            unit = self.unit_in_reach(session, actor, unit_code)
            conditions.append(scope.subtree_filter(unit_ref(unit), col(Finding.unit_id)))
        if level:
            conditions.append(col(Finding.level) == level)
        if rule:
            conditions.append(col(Finding.rule_code) == rule)
        if resident_id is not None:
            conditions.append(col(Finding.resident_id) == resident_id)
        total = session.exec(select(func.count()).select_from(Finding).where(*conditions)).one()
        rows = session.exec(
            select(Finding, Resident.name, OrgUnit.name)
            .join(Resident, col(Resident.id) == col(Finding.resident_id))
            .join(OrgUnit, col(OrgUnit.id) == col(Finding.unit_id))
            .where(*conditions)
            .order_by(col(Finding.level), col(Finding.unit_id), col(Finding.resident_id))
            .limit(max(1, min(limit, 500)))
            .offset(max(0, offset))
        ).all()
        by_code = {r.code: r for r in self.rules(session, include_inactive=True)}
        page = []
        for finding, name, unit_name in rows:
            known = by_code.get(finding.rule_code)
            page.append(
                {
                    "id": finding.id,
                    "rule": finding.rule_code,
                    "rule_version": finding.rule_version,
                    "kind": known.kind if known else None,
                    "level": finding.level,
                    "title": known.title if known else finding.rule_code,
                    "fix": known.fix if known else "",
                    "resident_id": finding.resident_id,
                    "resident_name": name,
                    "household_id": finding.household_id,
                    "unit_name": unit_name,
                    "found_at": finding.found_at,
                }
            )
        return int(total), page

    # -- scores ----------------------------------------------------------------------------

    def scores(
        self, session: Session, actor: Actor, unit_code: str | None = None
    ) -> tuple[Score, list[Score]]:
        """The scores of a unit in reach (the actor's own by default) and of its children."""
        self._require(actor, READ)
        unit = self.unit_in_reach(session, actor, unit_code or self._unit(session, actor).code)
        committees = session.exec(
            select(col(OrgUnit.id)).where(
                col(OrgUnit.path).startswith(unit.path), OrgUnit.level == "committee"
            )
        ).all()
        chosen = [c for c in committees if c is not None]
        counts = scores.committee_counts(session, self.rules(session), chosen)
        return scores.roll_up(session, unit, counts)

    def trend(
        self, session: Session, actor: Actor, unit_code: str | None = None, *, days: int = 90
    ) -> list[dict[str, Any]]:
        """The unit's score per day kept by the daily job, oldest first."""
        self._require(actor, READ)
        if not 1 <= days <= 400:
            raise ValidationFailed("days 应为 1 到 400 之间的整数", field="days")
        unit = self.unit_in_reach(session, actor, unit_code or self._unit(session, actor).code)
        return scores.trend(session, unit, days, beijing_today())

    def committee_summary(self, session: Session, actor: Actor) -> Score | None:
        """A committee cadre's own score (the workbench card); None for other levels."""
        if actor.unit is None or actor.unit.level != "committee" or not actor.has(READ):
            return None
        unit, _ = self.scores(session, actor)
        return unit

    def take_scores(self, day: date) -> int:
        """Keep every committee's counts for ``day`` (the daily job)."""
        with Session(self.engine) as session:
            kept = scores.take_scores(session, self.rules(session), day)
            session.commit()
        return kept

    # -- decisions on findings -------------------------------------------------------------

    def confirm(self, session: Session, actor: Actor, resident_id: int) -> None:
        """Record that the resident's record was checked with them today (clears freshness)."""
        resident = self.residents.get(session, actor, resident_id, WRITE)
        row = session.get(Confirmation, resident_id) or Confirmation(resident_id=resident_id)
        row.confirmed_at = utcnow()
        row.actor_user_id, row.actor_username = actor.user_id, actor.username
        session.add(row)
        audit.record(
            session,
            "quality.confirmed",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
            unit_id=resident.unit_id,
        )
        session.flush()
        self.refresh(session, [resident_id])

    def waive(
        self, session: Session, actor: Actor, resident_id: int, rule_code: Any, note: Any
    ) -> None:
        """Mark a finding as checked and right (the value is true): its rule skips it."""
        resident = self.residents.get(session, actor, resident_id, WRITE)
        known = {r.code for r in self.rules(session)}
        if not isinstance(rule_code, str) or rule_code not in known:
            raise ValidationFailed("没有这条质量规则", field="rule")
        if not isinstance(note, str) or not note.strip() or len(note) > 200:
            raise ValidationFailed("请说明核实情况（不超过 200 个字）", field="note")
        if session.get(Waiver, (rule_code, resident_id)) is None:
            session.add(
                Waiver(
                    rule_code=rule_code,
                    resident_id=resident_id,
                    note=note.strip(),
                    actor_user_id=actor.user_id,
                    actor_username=actor.username,
                )
            )
        audit.record(
            session,
            "quality.waived",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
            unit_id=resident.unit_id,
            detail={"rule": rule_code, "note": note.strip()},
        )
        session.flush()
        self.refresh(session, [resident_id])

    def unwaive(self, session: Session, actor: Actor, resident_id: int, rule_code: str) -> None:
        """Withdraw a waiver: the rule looks at the resident again."""
        resident = self.residents.get(session, actor, resident_id, WRITE)
        session.execute(
            delete(Waiver).where(
                col(Waiver.rule_code) == rule_code, col(Waiver.resident_id) == resident_id
            )
        )
        audit.record(
            session,
            "quality.unwaived",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
            unit_id=resident.unit_id,
            detail={"rule": rule_code},
        )
        session.flush()
        self.refresh(session, [resident_id])

    # -- helpers ---------------------------------------------------------------------------

    def _require(self, actor: Actor | None, permission: str) -> None:
        if actor is None or actor.unit is None or not actor.has(permission):
            raise Forbidden("您没有权限查看或设置数据质量")

    def _unit(self, session: Session, actor: Actor) -> OrgUnit:
        assert actor.unit is not None
        unit = session.get(OrgUnit, actor.unit.id)
        assert unit is not None
        return unit

    def unit_in_reach(self, session: Session, actor: Actor, code: str) -> OrgUnit:
        """The unit ``code`` if ``actor`` may read quality there; else NotFound."""
        unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
        if unit is None or not scope.can(actor, READ, unit_ref(unit)):
            raise NotFound("找不到该单位")
        return unit  # type: ignore[no-any-return]


def _ids(session: Session, query: Any) -> set[int]:
    rows = session.connection().execute(query).scalars()
    return {int(found) for found in rows if found is not None}


def load_rules(session: Session, *, include_inactive: bool = False) -> list[Rule]:
    """The rules in force: shipped, overlaid by the newest version saved in the portal."""
    rows = session.exec(select(RuleVersion, OrgUnit).join(OrgUnit)).all()
    stored = [from_version(row, None if unit.level == "city" else unit.path) for row, unit in rows]
    return effective_rules(stored, include_inactive=include_inactive)
