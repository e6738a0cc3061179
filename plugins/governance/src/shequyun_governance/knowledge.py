"""知识库: articles published at city, district or street level, read in the publisher's subtree.

An article is a policy (政策), a procedure (办事流程), an answer (问答) or a template (文书模板),
with files. Every change is a new version (:class:`~.models.ArticleVersion`); the index of
:mod:`.search` always holds the current one. Who reads: every unit at or below the publisher
(a committee reads its street's, district's and the city's articles), and whoever manages the
publisher (scope). Who writes: holders of ``governance.publish``, at their own unit; revising
or withdrawing needs the same permission on the article's unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, ValidationFailed
from sqlmodel import Session, col, select

from . import search
from .core import PUBLISH, VIEW, Errors, acting_unit, ancestor_ids, now, plan_each_time, text
from .files import Upload, attach
from .models import Article, ArticleVersion, Case, Category

__all__ = ["KINDS", "get", "listed", "publish", "revise", "search_articles", "suggested"]

KINDS = {"policy": "政策", "procedure": "办事流程", "answer": "问答", "template": "文书模板"}
MAX_FILES = 5


def readable(platform: Platform, actor: Actor | None) -> Any:
    """Articles ``actor`` may read: published at or above their unit, or inside their scope."""
    return sa.and_(col(Article.withdrawn).is_(False), _reaches(platform, actor, Article.unit_id))


def _reaches(platform: Platform, actor: Actor | None, unit_column: Any) -> Any:
    """Publishing units whose articles ``actor`` reads: their own, those above, their scope."""
    if actor is None or actor.unit is None:
        return sa.false()
    return sa.or_(
        unit_column.in_(ancestor_ids(actor.unit)),
        platform.scope_filter(actor, VIEW, unit_column),
    )


def get(platform: Platform, session: Session, actor: Actor, article_id: int) -> Article:
    row = session.exec(
        select(Article).where(Article.id == article_id, readable(platform, actor))
    ).first()
    if row is None:
        raise NotFound("找不到该文章")
    return row


def _fields(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    errors = Errors()
    kind = str(raw.get("kind") or "")
    if kind not in KINDS:
        errors.add("kind", "请选择类型（" + "、".join(KINDS.values()) + "）")
    title = text(raw, "title", "标题", errors, max_length=200)
    body = text(raw, "body", "正文", errors, max_length=50_000)
    wanted = raw.get("categories") or []
    if isinstance(wanted, str):
        wanted = [w for w in wanted.split(",") if w.strip()]
    known = {c.code for c in session.exec(select(Category).where(Category.kind == "case")).all()}
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        errors.add("categories", "适用案件类别应为类别编码的列表")
        wanted = []
    unknown = [w for w in wanted if w.strip() not in known]
    if unknown:
        errors.add("categories", "没有这些案件类别：" + "、".join(unknown))
    attachments = raw.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > MAX_FILES:
        errors.add("attachments", f"附件应为最多 {MAX_FILES} 个附件编号的列表")
        attachments = []
    errors.raise_if_any()
    return {
        "kind": kind,
        "title": title,
        "body": body,
        "categories": sorted({w.strip() for w in wanted}),
        "attachments": [str(a) for a in attachments],
    }


def _claim(
    platform: Platform,
    session: Session,
    actor: Actor,
    article: Article,
    ids: Sequence[str],
    uploads: Sequence[Upload] = (),
) -> list[str]:
    unit = platform.unit_by_id(session, article.unit_id)
    return attach(
        platform,
        session,
        actor,
        owner_ref=f"article:{article.id}",
        unit=unit,
        ids=ids,
        uploads=uploads,
        accept=("document", "image"),
        limit=MAX_FILES,
        field="attachments",
    )


def publish(
    platform: Platform,
    session: Session,
    actor: Actor,
    raw: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> Article:
    """Publish a new article at the actor's own unit (city, district or street)."""
    unit = acting_unit(actor)
    if not platform.can(actor, PUBLISH, unit):
        raise Forbidden("您没有发布知识库文章的权限")
    if unit.level == "committee":
        raise Forbidden("知识库文章由市、区、街镇发布")
    values = _fields(session, raw)
    article = Article(
        unit_id=unit.id,
        unit_name=unit.name,
        unit_level=unit.level,
        author=actor.display_name,
        **{k: v for k, v in values.items() if k != "attachments"},
    )
    session.add(article)
    session.flush()
    assert article.id is not None
    article.attachments = _claim(platform, session, actor, article, values["attachments"], uploads)
    _keep_version(session, article, "首次发布")
    search.index_article(session, article.id, article.unit_id, article.title, article.body)
    _record(platform, session, actor, article, "published")
    return article


def revise(
    platform: Platform,
    session: Session,
    actor: Actor,
    article_id: int,
    raw: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> Article:
    """A new version of an article; ``version`` (when sent) must be the current one (409)."""
    article = get(platform, session, actor, article_id)
    unit = platform.unit_by_id(session, article.unit_id)
    if unit is None or not platform.can(actor, PUBLISH, unit):
        raise Forbidden("只有发布单位及其上级可以修改这篇文章")
    if raw.get("version") is not None and str(raw["version"]) != str(article.version):
        raise Conflict("文章已被他人修改，请刷新后再试", field="version")
    values = _fields(session, raw)
    for key in ("kind", "title", "body", "categories"):
        setattr(article, key, values[key])
    article.attachments = _claim(platform, session, actor, article, values["attachments"], uploads)
    article.version += 1
    article.updated_at = now()
    session.add(article)
    note = str(raw.get("note") or "")[:200]
    _keep_version(session, article, note)
    assert article.id is not None
    search.index_article(session, article.id, article.unit_id, article.title, article.body)
    _record(platform, session, actor, article, "revised")
    return article


def withdraw(platform: Platform, session: Session, actor: Actor, article_id: int) -> Article:
    article = get(platform, session, actor, article_id)
    unit = platform.unit_by_id(session, article.unit_id)
    if unit is None or not platform.can(actor, PUBLISH, unit):
        raise Forbidden("只有发布单位及其上级可以撤回这篇文章")
    article.withdrawn = True
    article.updated_at = now()
    session.add(article)
    assert article.id is not None
    search.unindex_article(session, article.id)
    _record(platform, session, actor, article, "withdrawn")
    return article


def _keep_version(session: Session, article: Article, note: str) -> None:
    assert article.id is not None
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            kind=article.kind,
            title=article.title,
            body=article.body,
            categories=list(article.categories),
            attachments=list(article.attachments),
            note=note,
            author=article.author,
        )
    )


def _record(
    platform: Platform, session: Session, actor: Actor, article: Article, what: str
) -> None:
    platform.audit(
        session,
        f"governance.article_{what}",
        actor=actor,
        target_type="governance_article",
        target_id=article.id,
        detail={"version": article.version, "title": article.title},
    )
    platform.publish(
        session,
        f"governance.article.{what}",
        {
            "article_id": article.id,
            "unit_code": _unit_code(platform, session, article.unit_id),
            "unit_id": article.unit_id,
            "version": article.version,
        },
    )


def _unit_code(platform: Platform, session: Session, unit_id: int) -> str:
    unit = platform.unit_by_id(session, unit_id)
    assert unit is not None
    return unit.code


def versions(session: Session, article_id: int) -> list[ArticleVersion]:
    return list(
        session.exec(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(col(ArticleVersion.version).desc())
        )
    )


def listed(
    platform: Platform,
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    category: str | None = None,
    limit: int = 50,
) -> list[Article]:
    query = select(Article).where(readable(platform, actor))
    if kind:
        query = query.where(Article.kind == kind)
    if category:
        query = query.where(sa.cast(Article.categories, sa.String).like(f'%"{category}"%'))
    return list(session.exec(query.order_by(col(Article.updated_at).desc()).limit(limit)))


def search_articles(
    platform: Platform, session: Session, actor: Actor, query: str, *, limit: int = 20
) -> tuple[list[tuple[Article, str, str]], list[str], bool]:
    """Ranked ``(article, title html, snippet html)`` for ``query``, its words, and whether the
    results matched only some words (every word together found nothing)."""
    words = search.terms(query)
    if not words:
        raise ValidationFailed("请输入要搜索的内容", field="q")
    # A rare word is best found through the index, a common one by reading the table: only a
    # plan for the actual words knows which.
    plan_each_time(session)
    for every in (True, False):
        best = search.ranked(
            session,
            words,
            every=every,
            reach=lambda column: _reaches(platform, actor, column),
            limit=limit,
        )
        # Visibility is decided in the ranked subquery (by the article's unit); checking it
        # again here made PostgreSQL scan every article instead of fetching the page's 20.
        rows = session.exec(
            select(Article)
            .join(best, best.c.id == Article.id)
            .where(col(Article.withdrawn).is_(False))
            .order_by(best.c.rank, col(Article.id).desc())
        ).all()
        if rows or not every or len(words) == 1:
            break
    found = [
        (
            article,
            search.snippet(article.title, words, width=200),
            search.snippet(article.body, words),
        )
        for article in rows
    ]
    return found, words, not every


def suggested(
    platform: Platform, session: Session, actor: Actor, case: Case, *, limit: int = 5
) -> list[Article]:
    """Articles for a case: those written for its category, newest first."""
    category = session.get(Category, case.category_id)
    if category is None:
        return []
    return listed(platform, session, actor, category=category.code, limit=limit)


def article_dict(article: Article, *, full: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": article.id,
        "kind": article.kind,
        "kind_label": KINDS[article.kind],
        "title": article.title,
        "unit": {"id": article.unit_id, "name": article.unit_name, "level": article.unit_level},
        "categories": article.categories,
        "version": article.version,
        "author": article.author,
        "updated_at": article.updated_at.isoformat(),
    }
    if full:
        data["body"] = article.body
        data["attachments"] = [
            {"id": a, "url": f"/api/v1/plugins/governance/articles/{article.id}/files/{a}"}
            for a in article.attachments
        ]
    return data
