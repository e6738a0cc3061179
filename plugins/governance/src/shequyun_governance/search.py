"""Chinese full-text search of the knowledge base, on the database's own engine.

Chinese has no spaces between words, so neither SQLite's FTS5 tokenizers nor PostgreSQL's text
search parsers can find "电梯" inside "加装电梯". Here jieba segments every article in Python
(``cut_for_search``: long words are also cut into the short words inside them) and the words,
joined by spaces, go into the index: an FTS5 table on SQLite, a ``tsvector`` column with a GIN
index on PostgreSQL (configuration ``simple``: no stemming, no stop words of its own). A query is
segmented the same way, so "加装电梯" becomes 加装 AND 电梯 and finds an article that says
"电梯加装". When every word together finds nothing, any word will do (ranked lower by nature).

Ranking is the engine's: BM25 on SQLite (title words weigh ten times body words), ``ts_rank_cd``
on PostgreSQL (title words weight A, body B). Snippets are cut from the original text around the
first place most query words occur, with the words marked, the same on both databases.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from html import escape
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

__all__ = [
    "index_article",
    "index_articles",
    "ranked",
    "segment",
    "snippet",
    "terms",
    "unindex_article",
]

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
#: Words too common to help a search (a short list: the query is short, the index is big).
STOP_WORDS = frozenset(
    {
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "是",
        "在",
        "有",
        "为",
        "对",
        "等",
        "把",
        "被",
        "就",
        "也",
        "都",
        "而",
        "之",
        "于",
        "以",
        "其",
        "这",
        "那",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "如何",
        "怎么",
        "怎样",
        "什么",
        "吗",
        "呢",
        "吧",
        "啊",
        "请问",
        "一个",
    }
)

FTS_TABLE = sa.table("governance_article_fts", sa.column("rowid"), sa.column("title"))
PG_TABLE = sa.table(
    "governance_article_search",
    sa.column("article_id"),
    sa.column("unit_id"),
    sa.column("document"),
)
ARTICLES = sa.table("governance_article", sa.column("id"), sa.column("unit_id"))


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources when it is there, which now warns on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> list[str]:
    """The words of ``text`` for the index: fine-grained, lower-case, without punctuation."""
    words = []
    for word in _jieba().cut_for_search(text or "", HMM=True):
        word = word.strip().lower()
        if word and not _PUNCT.match(word):
            words.append(word)
    return words


def terms(query: str) -> list[str]:
    """The distinct words of a query, in order, stop words left out (unless nothing is left)."""
    words = list(dict.fromkeys(segment(query)))
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words


def index_article(session: Session, article_id: int, unit_id: int, title: str, body: str) -> None:
    """Put (or put again) an article's words in the index, in ``session``."""
    index_articles(session, [(article_id, unit_id, title, body)])


def index_articles(session: Session, articles: Iterable[tuple[int, int, str, str]]) -> int:
    """Put ``(article id, unit id, title, body)`` rows in the index in one statement per kind
    (a re-index of the whole knowledge base, or many new articles); returns how many."""
    rows = [
        {"id": i, "unit": u, "title": " ".join(segment(t)), "body": " ".join(segment(b))}
        for i, u, t, b in articles
    ]
    if not rows:
        return 0
    if _dialect(session) == "postgresql":
        session.execute(
            sa.text(
                "INSERT INTO governance_article_search (article_id, unit_id, document) VALUES "
                "(:id, :unit, setweight(to_tsvector('simple', :title), 'A') || "
                "setweight(to_tsvector('simple', :body), 'B')) "
                "ON CONFLICT (article_id) DO UPDATE SET unit_id = excluded.unit_id, "
                "document = excluded.document"
            ),
            rows,
        )
    else:
        session.execute(
            sa.text("DELETE FROM governance_article_fts WHERE rowid = :id"),
            [{"id": r["id"]} for r in rows],
        )
        session.execute(
            sa.text(
                "INSERT INTO governance_article_fts (rowid, title, body) "
                "VALUES (:id, :title, :body)"
            ),
            rows,
        )
    return len(rows)


def unindex_article(session: Session, article_id: int) -> None:
    """Take an article out of the index (withdrawn articles are not found)."""
    if _dialect(session) == "postgresql":
        statement = "DELETE FROM governance_article_search WHERE article_id = :id"
    else:
        statement = "DELETE FROM governance_article_fts WHERE rowid = :id"
    session.execute(sa.text(statement), {"id": article_id})


def ranked(
    session: Session,
    words: Sequence[str],
    *,
    every: bool,
    reach: Callable[[Any], Any],
    limit: int,
) -> Any:
    """A subquery of the ``limit`` best articles holding ``words`` (every word when ``every``,
    else any) whose unit passes ``reach`` (a condition on a unit-id column): columns ``id`` and
    ``rank`` (ascending: best first). Join it to the articles to load the page in one query.

    The index is ranked and cut before any article is read: PostgreSQL's index table carries
    each article's unit, so visibility, ranking and the limit happen there. (Joining the
    articles first made PostgreSQL read every matching article, body and all, to keep 20 of
    them: a common word matches thousands.) SQLite's FTS5 table holds only the words, so the
    units come from a join. The rank is computed once per match: the order refers to the
    selected column.
    """
    if _dialect(session) == "postgresql":
        joined = " ".join(words) if every else " or ".join(w for w in words if w != "or")
        function = sa.func.plainto_tsquery if every else sa.func.websearch_to_tsquery
        query = function(sa.literal_column("'simple'::regconfig"), joined)
        rank = (-sa.func.ts_rank_cd(PG_TABLE.c.document, query)).label("rank")
        statement = (
            sa.select(PG_TABLE.c.article_id.label("id"), rank)
            .where(PG_TABLE.c.document.op("@@")(query), reach(PG_TABLE.c.unit_id))
            .order_by(rank, PG_TABLE.c.article_id.desc())
        )
    else:
        quoted = ['"' + w.replace('"', '""') + '"' for w in words]
        expression = (" AND " if every else " OR ").join(quoted)
        fts = sa.literal_column("governance_article_fts")
        rank = sa.func.bm25(fts, 10.0, 1.0).label("rank")
        statement = (
            sa.select(FTS_TABLE.c.rowid.label("id"), rank)
            .join(ARTICLES, ARTICLES.c.id == FTS_TABLE.c.rowid)
            .where(fts.op("MATCH")(expression), reach(ARTICLES.c.unit_id))
            .order_by(rank, FTS_TABLE.c.rowid.desc())
        )
    return statement.limit(limit).subquery("ranked")


def snippet(text: str, words: Iterable[str], *, width: int = 80) -> str:
    """HTML: about ``width`` characters of ``text`` around the place where most of ``words``
    occur close together, each occurrence in ``<mark>``; the text is escaped, so the result is
    safe to show. One pass over the matches (a sliding window), however long the text."""
    wanted = tuple(sorted({w for w in words if w}, key=len, reverse=True))
    if not wanted:
        return escape(text[:width]) + ("…" if len(text) > width else "")
    pattern = _pattern(wanted)
    start = 0
    if len(text) > width:
        hits = [(m.start(), m.group(0).lower()) for m in pattern.finditer(text)]
        if hits:
            counts: Counter[str] = Counter()
            left, best, best_count = 0, hits[0][0], 0
            for position, word in hits:
                counts[word] += 1
                while position - hits[left][0] >= width:
                    gone = hits[left][1]
                    counts[gone] -= 1
                    if not counts[gone]:
                        del counts[gone]
                    left += 1
                if len(counts) > best_count:
                    best, best_count = hits[left][0], len(counts)
            start = max(0, best - width // 4)
    piece = text[start : start + width]
    parts, last = [], 0
    for found in pattern.finditer(piece):
        parts.append(escape(piece[last : found.start()]))
        parts.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    parts.append(escape(piece[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + "".join(parts).replace("\n", " ") + suffix


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
