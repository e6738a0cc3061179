"""The policy pool as a service: summaries, details, new versions, one resident's policies."""

from __future__ import annotations

from datetime import date
from typing import Any

from shequyun_sdk import Actor, Forbidden, NotFound, Platform, ValidationFailed
from sqlalchemy import func
from sqlmodel import Session, col, select

from . import outreach, pool
from .core import VIEW
from .models import PolicyVersion
from .policy.cases import run_cases
from .policy.evaluate import Outcome
from .policy.loader import PolicyError, load_text
from .policy.model import VERDICT_TITLES, VERDICTS, Policy
from .policy.reasons import render_reason

__all__ = ["policy_detail", "policy_summary", "resident_policies", "save_policy"]

LEVELS = {"national": "国家", "city": "市级", "district": "区级", "street": "街镇"}
CATEGORIES = {
    "elderly": "养老",
    "assistance": "社会救助",
    "disability": "助残",
    "children": "儿童",
    "care": "照护",
}
PER = {"month": "每月", "year": "每年", "once": "一次性"}


def benefit_text(policy: Policy, day: date) -> str:
    """The benefit in words with the figures in force on ``day``."""
    parameter = policy.amount_parameter()
    dated = parameter.at(day) if parameter is not None else None
    if parameter is None or dated is None:
        return policy.benefit.text
    if dated.bands:
        bands = "；".join(
            f"{b.min_age}"
            + (f"至{b.max_age}" if b.max_age is not None else "")
            + f"周岁{b.value}元"
            + ("" if b.max_age is not None else "（及以上）")
            for b in dated.bands
        )
        return f"{policy.benefit.text}：{bands}（{parameter.unit}）"
    return f"{policy.benefit.text}：{dated.value}{parameter.unit}"


def policy_summary(policy: Policy, day: date) -> dict[str, Any]:
    document = policy.documents[policy.document]
    return {
        "id": policy.id,
        "version": policy.version,
        "name": policy.name,
        "name_en": policy.name_en,
        "issuer": policy.issuer,
        "level": policy.level,
        "level_title": LEVELS[policy.level],
        "category": policy.category,
        "category_title": CATEGORIES[policy.category],
        "in_force": policy.in_force(day),
        "effective_from": policy.effective_from.isoformat(),
        "effective_until": policy.effective_until.isoformat() if policy.effective_until else None,
        "document": {"title": document.title, "number": document.number},
        "benefit": benefit_text(policy, day),
    }


def policy_detail(session: Session, policy: Policy, day: date) -> dict[str, Any]:
    """Everything about a policy: documents, conditions, figures by date, cases and versions."""
    versions = session.exec(
        select(PolicyVersion)
        .where(PolicyVersion.policy_id == policy.id)
        .order_by(col(PolicyVersion.version))
    ).all()
    cases = run_cases(policy)
    return {
        **policy_summary(policy, day),
        "summary": policy.summary,
        "documents": [
            {
                "id": d.id,
                "title": d.title,
                "issuer": d.issuer,
                "number": d.number,
                "effective": d.effective.isoformat() if d.effective else None,
                "note": d.note,
            }
            for d in policy.documents.values()
        ],
        "conditions": [
            {
                "id": leaf.id,
                "kind": leaf.kind,
                "text": render_reason(policy, leaf, 3, day)
                if leaf.kind != "confirm"
                else render_reason(policy, leaf, 2, day),
            }
            for leaf in policy.leaves()
        ],
        "clue": [
            {"id": leaf.id, "text": render_reason(policy, leaf, 3, day)}
            for leaf in policy.clue_leaves()
        ],
        "parameters": [
            {
                "name": p.name,
                "title": p.title,
                "unit": p.unit,
                "values": [
                    {
                        "from": v.start.isoformat(),
                        "in_force": p.at(day) == v,
                        "value": v.value,
                        "bands": [
                            {"min_age": b.min_age, "max_age": b.max_age, "value": b.value}
                            for b in v.bands
                        ],
                        "document": policy.documents[v.document].title,
                    }
                    for v in p.values
                ],
            }
            for p in policy.parameters.values()
        ],
        "receiving": {
            "tags": list(policy.receiving.tags),
            "attributes": list(policy.receiving.attributes),
            "recorded": policy.receiving.recorded,
        },
        "cases": {"total": len(cases), "passed": sum(1 for c in cases if c.passed)},
        "versions": [
            {
                "version": v.version,
                "by": v.created_by,
                "unit": v.unit_name,
                "note": v.note,
                "retired": v.retired,
            }
            for v in versions
        ],
        "source": policy.source,
    }


def save_policy(
    platform: Platform, session: Session, actor: Actor, source: Any, note: Any
) -> PolicyVersion:
    """A new version of a policy from its YAML text; its own cases must pass first.

    A district may add and change policies of level ``district`` (and ``street``) only, and a
    ``place`` condition of a district policy must stay inside the district; city and national
    policies belong to the city level.
    """
    if not isinstance(source, str) or not source.strip() or len(source) > 100_000:
        raise ValidationFailed("请提供政策文件内容（YAML）", field="source")
    if not isinstance(note, str) or len(note) > 400:
        raise ValidationFailed("备注应为不超过400字的文字", field="note")
    policy = load_text(source)
    assert actor.unit is not None
    if actor.unit.level != "city" and policy.level in ("national", "city"):
        raise Forbidden("区级只能新增或修改区级、街镇级政策", field="level")
    if actor.unit.level != "city":
        places = [leaf for leaf in policy.leaves() if leaf.kind == "place"]
        units = pool.place_units(platform, session, [policy])
        outside = [
            code
            for leaf in places
            for code in leaf.args["value"]
            if code not in units or not actor.unit.contains(units[code])
        ]
        if not places or outside:
            raise Forbidden("区级政策须以 place 条件限定在本区范围内", field="conditions")
    failures = [r for r in run_cases(policy) if not r.passed]
    if failures:
        raise PolicyError([(f"cases.{r.name}", "；".join(r.problems)) for r in failures])
    latest = session.exec(
        select(func.max(PolicyVersion.version)).where(PolicyVersion.policy_id == policy.id)
    ).one()
    shipped = next((p for p in pool.pool(session, in_force=False) if p.id == policy.id), None)
    version = max(latest or 0, shipped.version if shipped else 0) + 1
    row = PolicyVersion(
        policy_id=policy.id,
        version=version,
        source=source,
        unit_id=actor.unit.id,
        unit_name=actor.unit.name,
        note=note,
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    platform.audit(
        session,
        "advisors.policy_saved",
        actor=actor,
        target_type="advisors_policy",
        target_id=policy.id,
        detail={"version": version},
    )
    return row


def resident_policies(
    platform: Platform, session: Session, actor: Actor, resident_id: int | None
) -> list[dict[str, Any]]:
    """The policies that may apply to one resident, with reasons (SQL, in the actor's scope).

    "Not found" outside the scope. Listed: policies the resident receives, and those not ruled
    out whose clue (if any) holds — a policy everyone 户籍 would have to confirm (低保) appears
    only with a reason to think it applies.
    """
    if resident_id is None:
        raise NotFound("找不到该居民")
    platform.get_resident(session, actor, resident_id)  # NotFound outside the scope
    day = pool.today()
    people = platform.resident_population(actor, permission=VIEW)
    items = []
    for policy in pool.pool(session, day=day):
        compiled = pool.compiled(platform, session, policy, people, day)
        row = session.execute(
            select(compiled.query).where(compiled.columns.resident_id == resident_id)
        ).first()
        if row is None:
            continue
        # ruled out, or only "to confirm" with no clue in the data (低保 for everyone 户籍)
        unlikely = row.verdict == 0 or (row.clue is not None and row.clue != 3)
        if unlikely and not row.receiving:
            continue
        codes = compiled.leaf_codes(row)
        outcomes = [
            Outcome(leaf.id, codes[leaf.id], render_reason(policy, leaf, codes[leaf.id], day))
            for leaf in policy.leaves()
        ]
        verdict = VERDICTS[row.verdict]
        items.append(
            {
                "policy": {"id": policy.id, "name": policy.name},
                "verdict": verdict,
                "verdict_title": VERDICT_TITLES[verdict],
                "receiving": bool(row.receiving),
                "amount": row.amount,
                "benefit": benefit_text(policy, day),
                "reasons": outreach.distinct_reasons(outcomes),
            }
        )
    platform.audit(
        session,
        "advisors.resident_policies_viewed",
        actor=actor,
        target_type="resident",
        target_id=resident_id,
    )
    return items
