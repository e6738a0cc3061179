"""Residents listed by name come 按姓氏拼音, as a cadre reads a roll, on both databases: the
API's cursor walk (ties of one name broken by the id, scope applied) and the portal's list."""

from __future__ import annotations

import re

from sqlmodel import Session

from shequyun.collation import pinyin_key

from ..portal.test_residents_pages import actor_of
from ._data import id_number, resident

W1, W2 = "310115004001", "310115004002"

#: In pinyin order: a(阿) bai(白) chen(陈) li(李) wang(王) zhang(张) zhao(赵); in code point
#: order 张 comes first and 陈 last.
ROLL = [
    "阿强", "白雪", "陈晨", "李明", "王", "王芳", "王芳", "王芳", "王伟",
    "张三", "张伟", "张伟", "张伟", "张伟", "赵敏",
]  # fmt: skip


def register(kernel, test_actor, names, first_serial):
    """Register ``names`` in a shuffled order, so that the ids do not follow the names."""
    ids: dict[int, str] = {}
    order = list(range(len(names)))[::2] + list(range(len(names)))[1::2]
    with Session(kernel.engine, expire_on_commit=False) as session:
        actor = actor_of(kernel, test_actor)
        for i in order:
            data = resident(
                name=names[i],
                id_number=id_number(serial=str(first_serial + i)),
                household_number=None,
            )
            ids[kernel.residents.create(session, actor, data, source="api").id] = names[i]
        session.commit()
    return ids


def walk(client, test_actor, sort, limit):
    seen, cursor = [], None
    while True:
        params = {"limit": limit, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/residents", params=params, headers=test_actor.auth)
        assert page.status_code == 200, page.text
        seen += [(r["name"], r["id"]) for r in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def by_pinyin(ids):
    """``ids`` (id -> name) in the order the list must give: ROLL's, then the id."""
    return sorted(((name, i) for i, name in ids.items()), key=lambda p: (ROLL.index(p[0]), p[1]))


def test_a_committee_walks_its_residents_in_pinyin_order_across_ties(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre(W1)
    ids = register(shequyun_kernel, cadre, ROLL, 500)
    expected = by_pinyin(ids)
    assert [name for name, _ in expected] == ROLL
    # Pages of 2 and 3 end inside the runs of 王芳 and 张伟: the cursor goes on after the
    # last one shown, neither skipping nor repeating one of the same name.
    for limit in (2, 3, 50):
        assert walk(shequyun_client, cadre, "name", limit) == expected
        assert walk(shequyun_client, cadre, "-name", limit) == expected[::-1]


def test_a_street_sees_both_committees_merged_in_pinyin_order_and_a_cadre_only_their_own(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    first = register(shequyun_kernel, shequyun_actors.cadre(W1), ROLL[::2], 600)
    second = register(shequyun_kernel, shequyun_actors.cadre(W2), ROLL[1::2], 700)
    street = shequyun_actors.street_admin("310115004000")
    assert walk(shequyun_client, street, "name", 4) == by_pinyin({**first, **second})
    other = shequyun_actors.cadre(W2)
    assert walk(shequyun_client, other, "name", 4) == by_pinyin(second)


def test_the_portal_list_sorts_names_in_pinyin_order(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    register(shequyun_kernel, cadre, ROLL, 800)
    portal = cadre.portal()

    def names(params):
        page = portal.get("/residents", params=params)
        assert page.status_code == 200
        return re.findall(r'<td class="name"><a href="/residents/\d+">([^<]+)</a>', page.text)

    assert names({"sort": "name"}) == ROLL
    assert names({"sort": "-name"}) == ROLL[::-1]
    assert "姓名（按拼音）" in portal.get("/residents").text


def test_sqlite_orders_by_gb2312_level_one_then_the_rest():
    """SQLite's collation (PostgreSQL's is ICU's): GB2312's level-1 characters are in pinyin
    order, its level-2 ones (by radical) after them, characters GB2312 lacks last; only the
    same text ties."""
    names = ["赵敏", "㐀", "王芳", "Wang", "喆", "阿强", "王", "亓官", "买买提·艾力", "买买提"]
    assert sorted(names, key=pinyin_key) == [
        "Wang", "阿强", "买买提", "买买提·艾力", "王", "王芳", "赵敏", "亓官", "㐀", "喆",
    ]  # fmt: skip
    assert pinyin_key("王芳") != pinyin_key("王芳 ")


def test_the_resident_picker_offers_names_in_pinyin_order_too(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    """The picker (a plugin's 选择居民, Platform.pick) lists a committee as the list does."""
    cadre = shequyun_actors.cadre(W1)
    register(shequyun_kernel, cadre, ROLL, 900)
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        picked = platform.pick(session, actor_of(shequyun_kernel, cadre), "resident", limit=50)
    assert [p.label.split(" · ")[0] for p in picked] == ROLL


def test_a_street_sorted_by_name_or_age_reads_each_committee_s_first_rows_not_the_street(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    """Above a committee, PostgreSQL reads a sorted page as each unit's first names from its
    index, merged (unit_walk.py), instead of sorting the whole street: the pages are the same
    as a sort of everyone, in both directions, through the API's cursors and the portal's
    page numbers, and a cadre still sees only their committee."""
    from sqlalchemy import event
    from sqlmodel import select

    from shequyun.residents.models import Resident
    from shequyun.residents.reading import ResidentFilters

    first = register(shequyun_kernel, shequyun_actors.cadre(W1), ROLL * 3, 100)
    second = register(shequyun_kernel, shequyun_actors.cadre(W2), ROLL * 2, 150)
    expected = by_pinyin({**first, **second})
    street = shequyun_actors.street_admin("310115004000")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(shequyun_kernel.engine, "before_cursor_execute", seen)
    try:
        for limit in (2, 7):
            assert walk(shequyun_client, street, "name", limit) == expected
            assert walk(shequyun_client, street, "-name", limit) == expected[::-1]
        with Session(shequyun_kernel.engine) as session:
            actor = actor_of(shequyun_kernel, street)
            reader, everyone = shequyun_kernel.residents, ResidentFilters()
            # The portal breaks ties of a name by the id, ascending, in both directions.
            backwards = sorted(expected, key=lambda p: (-ROLL.index(p[0]), p[1]))
            for sort, order in (("name", expected), ("-name", backwards)):
                shown = []
                for number in range(1, 8):
                    items, count = reader.numbered_page(
                        session, actor, everyone, sort=sort, page=number, size=11
                    )
                    shown += [(r["name"], r["id"]) for r in items]
                assert count.n == len(order)
                assert shown == order
            # By age, oldest first (ties by id), as a sort of the whole street has it.
            ages = {r.id: (r.birth_date, r.id) for r in session.exec(select(Resident))}
            for sort in ("age", "-age"):
                shown = []
                for number in range(1, 8):
                    items, _ = reader.numbered_page(
                        session, actor, everyone, sort=sort, page=number, size=11
                    )
                    shown += [r["id"] for r in items]
                backwards = sort.startswith("-")
                assert shown == sorted(
                    ages, key=lambda i: (ages[i][0], -i if backwards else i), reverse=backwards
                )
    finally:
        event.remove(shequyun_kernel.engine, "before_cursor_execute", seen)
    walked = [s for s in statements if "LATERAL" in s]
    if shequyun_kernel.engine.dialect.name == "postgresql":
        assert walked, "a street's sorted pages should read unit by unit on PostgreSQL"
    else:
        assert not walked  # SQLite sorts the street: it has no LATERAL
    assert walk(shequyun_client, shequyun_actors.cadre(W2), "name", 7) == by_pinyin(second)
