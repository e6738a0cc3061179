"""Names in pinyin order (按姓氏拼音), the way a cadre reads a roll, on both databases.

Ordering by a name column as it is compares code points (or the database's locale), which
puts 张 before 王 before 李. :func:`pinyin` orders by the collation ``kernel_pinyin`` instead:

- on PostgreSQL migration k0028 creates it from ICU's ``zh-Hans-x-icu`` (every Han character
  in pinyin order, rare ones included), or from ``"C"`` (code point order) on a server built
  without ICU; an index on ``(unit_id, name COLLATE kernel_pinyin, id)`` keeps a committee's
  sorted page an index walk;
- on SQLite :func:`register_sqlite` registers it on every connection (``db.make_engine``),
  comparing names by their GB2312 encoding: its 3,755 level-1 characters, nearly every
  surname and given name, are in pinyin order; the level-2 ones follow them in radical order,
  then every character GB2312 lacks, by code point. docs/api/residents.md says where the two
  differ.

Both are deterministic: two names compare equal only when they are the same text, so a keyset
cursor on ``(name, id)`` neither skips nor repeats a row.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from sqlalchemy import ColumnElement

__all__ = ["PINYIN", "pinyin", "pinyin_key", "register_sqlite"]

#: The collation's name in both databases.
PINYIN = "kernel_pinyin"


def pinyin(column: Any) -> ColumnElement[Any]:
    """``column COLLATE kernel_pinyin``: the column in pinyin order, for ORDER BY and for
    the comparisons of a keyset cursor (which must use the order the page was sorted by)."""
    return column.collate(PINYIN)  # type: ignore[no-any-return]


# After every GB2312 byte sequence (whose bytes are at most 0xF7 0xFE).
_BEYOND_GB2312 = b"\xff"
# The middle dot of transliterated names (买买提·艾力) is GB2312's A1A4, which Python's codec
# reads as the katakana one.
_AS_GB2312 = str.maketrans({"\u00b7": "\u30fb"})


@functools.lru_cache(maxsize=65_536)
def pinyin_key(name: str) -> bytes:
    """What SQLite's ``kernel_pinyin`` compares: each character's GB2312 bytes (ASCII as
    itself, level-1 hanzi in pinyin order, then level-2 by radical), a character outside
    GB2312 as 0xFF and its code point, after all of them; then the text's own UTF-8, so that
    only equal texts tie."""
    parts: list[bytes] = []
    for char in name.translate(_AS_GB2312):
        try:
            parts.append(char.encode("gb2312"))
        except UnicodeEncodeError:
            parts.append(_BEYOND_GB2312 + ord(char).to_bytes(3, "big"))
    return b"".join(parts) + b"\x00" + name.encode("utf-8", "surrogatepass")


def _compare(a: str, b: str) -> int:
    ka, kb = pinyin_key(a), pinyin_key(b)
    return (ka > kb) - (ka < kb)


def register_sqlite(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the ``kernel_pinyin`` collation (pure Python, no extension)."""
    connection.create_collation(PINYIN, _compare)
