"""Searching residents by part of their name, through an index on PostgreSQL.

A name search asks for every resident whose name *contains* what was typed (``LIKE '%q%'``),
which no btree answers: across a district it read every resident of the district. Chinese
names are two or three characters and people type one or two of them (a surname, a given
name), too short for trigrams (``pg_trgm`` finds no trigram in ``%王伟%`` and reads its whole
index). So PostgreSQL indexes each name's characters and pairs of adjacent characters
(``kernel_name_grams('王小明')`` = ``{王,小,明,王小,小明}``, migration k0024) in a GIN index
that core PostgreSQL provides without any extension:

- one or two characters: ``grams @> ARRAY[q]`` is exactly "the name contains q";
- three or more: every pair of ``q`` must be among the name's (``grams @> ARRAY[pairs]``),
  which narrows the candidates through the index, and ``LIKE`` keeps those that hold ``q``.

The ``LIKE`` stays in every case, so the answers are those of ``LIKE`` alone, and PostgreSQL
chooses between the index and its other plans (walking a district's residents in id order
finds a page of 王 sooner than the index, which holds every 王 of the city). A query holding
``LIKE``'s own wildcards (``%``, ``_``) keeps ``LIKE`` alone. SQLite (the embedded default, a
district's data at most) has no such index and keeps ``LIKE``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, and_, bindparam, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import ARRAY, Boolean

__all__ = ["escape_like", "name_contains", "name_grams"]


def name_grams(text: str) -> list[str]:
    """What the index must hold for a name containing ``text``: ``text`` itself when it is one
    or two characters, else its pairs of adjacent characters (in order, without repeats)."""
    if len(text) <= 2:
        return [text]
    return list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))


def name_contains(column: Any, text: str, *, literal: bool = False) -> ColumnElement[bool]:
    """``column`` (a resident's name) contains ``text``, answered through the name index on
    PostgreSQL. ``LIKE '%text%'`` as before: ``%`` and ``_`` in ``text`` are wildcards (and the
    index is not used), unless ``literal``, which matches them as themselves."""
    if literal:
        like = column.like(f"%{escape_like(text)}%", escape="\\")
    else:
        like = column.contains(text)
        if any(c in text for c in "%_\\"):
            return like  # type: ignore[no-any-return]
    if not text:
        return like  # type: ignore[no-any-return]
    return _IndexedContains(column, text, like)


def escape_like(text: str) -> str:
    """``text`` for a ``LIKE`` pattern with ``ESCAPE '\\'``: its wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _IndexedContains(ColumnElement[bool]):
    """``LIKE`` on SQLite; the index's condition and the same ``LIKE`` on PostgreSQL."""

    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it is: no "= 1" on SQLite
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 - a class attribute, as in SQLAlchemy's own
        ("pattern", InternalTraversal.dp_clauseelement),
        ("grams", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, text: str, like: ColumnElement[bool]) -> None:
        self.pattern = like
        wanted = bindparam(None, name_grams(text), type_=ARRAY(Text))
        self.grams: ColumnElement[bool] = func.kernel_name_grams(column).op("@>")(wanted)


@compiles(_IndexedContains)
def _like_only(element: _IndexedContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.pattern, **kw)


@compiles(_IndexedContains, "postgresql")
def _through_the_index(element: _IndexedContains, compiler: SQLCompiler, **kw: Any) -> str:
    # LIKE first: a plan that reads the rows anyway tests it before computing the grams.
    return compiler.process(and_(element.pattern, element.grams).self_group(), **kw)
