"""Names as a duplicate search compares them: one person written two ways is one name.

The same person is registered as ``阿卜杜·热合曼`` by one committee and ``阿卜杜•热合曼`` or
``阿卜杜．热合曼`` by another, as ``王 小明`` or ``王小明``, with full-width letters from a phone
keyboard, or as ``陳麗華`` from a Hong Kong or Taiwan document. :func:`name_key` folds all of
these to one key: NFKC (full-width letters, digits and punctuation to their ordinary form), no
spaces at all, every middle-dot look-alike to ``·``, Latin letters in lower case, and the
traditional forms of characters common in names to their simplified ones. The table is small
on purpose: only unambiguous characters (one simplified form, used in names), not a converter.

:func:`variant_pairs` finds the pairs the exact comparison in SQL cannot: two active records
whose names differ as written but have one key. At least one of the two names is then not in
its folded form, and such names are rare, so the search streams the names once, keeps those,
and looks up the few records whose names equal their keys by the name index.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ..residents.models import Resident
from .models import DuplicatePair, NameKey

__all__ = ["name_key", "variant_pairs"]

#: Traditional characters common in Chinese names, and their simplified forms, in order.
TRADITIONAL = (
    "陳張劉黃吳趙楊孫馬羅鄭謝許韓馮鄧蕭蔣葉蘇呂盧鍾譚陸賈韋鄒閻賀龍顧龔萬錢嚴湯溫齊喬龐顏莊聶魯歐關"
    "蘭寧紀畢單駱藍鮑華饒陽時農繆簡車項連麥婁竇黨費衛應邊師榮鞏閔鄔欒叢遲鄺淩塗"
    "國偉強軍傑東紅麗豔艷鳳雲鵬飛輝寶貴興慶義勝剛靜穎潔瑩嬌鳴濤銘錦鋒鋼鐵銀長順聰達進遠運廣億"
    "發財業樂歡愛夢嬋綺彥瑋賢聖潤澤濱瀾鴻權書詩語誠謙蓮蘋藝蕓軒馳駿騰鶴鷹齡維綱緒紹繼總綠紋純經"
    "倫傳僑優兒學實將憲懷戰揚曉暉歷會楓樺樹櫻氣漢濟灝煒燁爾獻現環瓊禮祿禎穩競築節範絲綿聲聯舉蔭"
    "蘊貞賓質贊躍鄉錫鏡鐘門開閣雙電靈韻頌領頤顯風飄館驊"
)
SIMPLIFIED = (
    "陈张刘黄吴赵杨孙马罗郑谢许韩冯邓萧蒋叶苏吕卢钟谭陆贾韦邹阎贺龙顾龚万钱严汤温齐乔庞颜庄聂鲁欧关"
    "兰宁纪毕单骆蓝鲍华饶阳时农缪简车项连麦娄窦党费卫应边师荣巩闵邬栾丛迟邝凌涂"
    "国伟强军杰东红丽艳艳凤云鹏飞辉宝贵兴庆义胜刚静颖洁莹娇鸣涛铭锦锋钢铁银长顺聪达进远运广亿"
    "发财业乐欢爱梦婵绮彦玮贤圣润泽滨澜鸿权书诗语诚谦莲苹艺芸轩驰骏腾鹤鹰龄维纲绪绍继总绿纹纯经"
    "伦传侨优儿学实将宪怀战扬晓晖历会枫桦树樱气汉济灏炜烨尔献现环琼礼禄祯稳竞筑节范丝绵声联举荫"
    "蕴贞宾质赞跃乡锡镜钟门开阁双电灵韵颂领颐显风飘馆骅"
)
#: After NFKC: what people type for the middle dot of a transcribed name (U+00B7).
DOTS = ".•・‧∙⋅"
FOLD = str.maketrans(TRADITIONAL + DOTS, SIMPLIFIED + "·" * len(DOTS))
SPACES = re.compile(r"\s+")
#: Names made only of these (common CJK ideographs and the middle dot) that hold none of the
#: traditional forms above are their own key: NFKC leaves such characters as they are.
PLAIN = re.compile(r"[\u4e00-\u9fff·]+")
FOLDED = frozenset(TRADITIONAL)
CHUNK = 500


def name_key(name: str) -> str:
    """The form of ``name`` that two spellings of one person's name share."""
    if PLAIN.fullmatch(name) and FOLDED.isdisjoint(name):
        return name  # nearly every name: the fast way
    folded = unicodedata.normalize("NFKC", name).translate(FOLD)
    return SPACES.sub("", folded).lower()


def variant_pairs(connection: Connection) -> list[tuple[int, int, str]]:
    """``(a, b, reason)`` for records whose names differ but share a key, not yet paired.

    ``reason`` is as for exact names: ``name_birth`` (same gender and birth date, one
    committee), ``missed_transfer`` (the same, two committees) or ``name_phone``.
    """
    table = Resident.__table__  # type: ignore[attr-defined]
    active = table.c.status == "active"
    fields = [table.c[n] for n in ("id", "name", "gender", "birth_date", "unit_id", "phone_hash")]
    odd: dict[int, str] = {}
    names = select(table.c.id, table.c.name).where(active).execution_options(yield_per=5000)
    for resident_id, name in connection.execute(names):
        if name_key(name) != name:
            odd[resident_id] = name
    _keep_keys(connection, odd)
    if not odd:
        return []
    people: dict[int, Any] = {}
    for part in _chunks(list(odd)):
        mine = list(connection.execute(select(*fields).where(table.c.id.in_(part))))
        people.update((row.id, row) for row in mine)
        # Those whose name is the key and who share a birth date or a phone with one of these:
        # never every holder of a common name (a million records hold few thousand names).
        births = sorted({row.birth_date for row in mine})
        phones = sorted({row.phone_hash for row in mine if row.phone_hash is not None})
        near = table.c.birth_date.in_(births)
        if phones:
            near = near | table.c.phone_hash.in_(phones)
        keys = sorted({name_key(row.name) for row in mine})
        query = select(*fields).where(active, table.c.name.in_(keys), near)
        people.update((row.id, row) for row in connection.execute(query))
    found = _pairs(people.values(), odd)
    return _not_yet_paired(connection, found)


def _keep_keys(connection: Connection, odd: Mapping[int, str]) -> None:
    """Rewrite :class:`.models.NameKey` as a whole: the keys the change-time search looks up."""
    table = NameKey.__table__  # type: ignore[attr-defined]
    connection.execute(delete(table))
    rows = [{"resident_id": i, "name_key": name_key(n)} for i, n in sorted(odd.items())]
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(table), rows[start : start + CHUNK])


def _pairs(rows: Iterable[Any], odd: Mapping[int, str]) -> list[tuple[int, int, str]]:
    """The pairs with at least one name not in its folded form, by lookup, not by all pairs
    (two records with the same name were found by the SQL already)."""
    found = pairs_by_key(rows, set(odd), lambda a, b: a.name != b.name)
    return [(a, b, reason) for (a, b), reason in sorted(found.items())]


def pairs_by_key(
    rows: Iterable[Any], pivots: Container[int], differ: Callable[[Any, Any], bool]
) -> dict[tuple[int, int], str]:
    """The duplicate candidates among ``rows`` that involve a record of ``pivots``, with the
    daily search's reasons: the same folded name, gender and birth date (``missed_transfer``
    across committees, else ``name_birth``), or the same folded name and phone
    (``name_phone``). ``differ(a, b)`` says whether two rows may make a pair at all. Each row
    has ``id``, ``name``, ``gender``, ``birth_date``, ``unit_id`` and ``phone_hash``."""
    by_person: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    by_phone: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        key = name_key(row.name)
        by_person[(key, row.gender, row.birth_date)].append(row)
        if row.phone_hash is not None:
            by_phone[(key, row.phone_hash)].append(row)
    found: dict[tuple[int, int], str] = {}
    for same in by_person.values():
        for a in (r for r in same if r.id in pivots):
            for b in same:
                if differ(a, b):
                    pair = (min(a.id, b.id), max(a.id, b.id))
                    found[pair] = "missed_transfer" if a.unit_id != b.unit_id else "name_birth"
    for same in by_phone.values():
        for a in (r for r in same if r.id in pivots):
            for b in same:
                pair = (min(a.id, b.id), max(a.id, b.id))
                if differ(a, b) and pair not in found:
                    found[pair] = "name_phone"
    return found


def _not_yet_paired(
    connection: Connection, found: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    pair = DuplicatePair.__table__  # type: ignore[attr-defined]
    known: set[tuple[int, int]] = set()
    for part in _chunks(sorted({a for a, _, _ in found})):
        query = select(pair.c.resident_a, pair.c.resident_b).where(pair.c.resident_a.in_(part))
        known.update((a, b) for a, b in connection.execute(query))
    return [(a, b, reason) for a, b, reason in found if (a, b) not in known]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
