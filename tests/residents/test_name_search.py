"""A name search answers what ``LIKE '%q%'`` answers, in scope, through the name index on
PostgreSQL (residents/name_search.py, migration k0024) and by ``LIKE`` on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from shequyun.residents.generate_bulk import bulk_load
from shequyun.residents.name_search import name_grams
from shequyun.residents.reading import ResidentFilters

from ..portal.test_residents_pages import actor_of, register
from ._data import id_number

W1, W2, XUHUI = "310115004001", "310115004002", "310104003001"
PUDONG = "310115000000"

#: Written by hand: Latin letters in both cases, a dot, LIKE's own wildcards, a long name.
ODD_NAMES = ("Anna Lee", "anna", "买买提·艾力", "王_明", "50%王", "欧阳娜娜", "张三丰张三")


@pytest.fixture
def people(shequyun_kernel, shequyun_units, shequyun_actors):
    """Generated residents in three committees of two districts, and the odd names."""
    units = [shequyun_units[code] for code in (W1, W2, XUHUI)]
    bulk_load(
        shequyun_kernel.engine,
        shequyun_kernel.residents.cipher,
        units,
        {W1: 150, W2: 60, XUHUI: 90},
        "name-search",
    )
    cadre = shequyun_actors.cadre(W1)
    for serial, name in enumerate(ODD_NAMES, start=501):
        register(shequyun_kernel, cadre, name=name, id_number=id_number(serial=str(serial)))
    with Session(shequyun_kernel.engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE kernel_resident"))
            session.commit()
    return {
        "city": shequyun_actors.platform_admin(),
        "district": shequyun_actors.district_admin(PUDONG),
        "committee": cadre,
    }


def by_like(kernel, q: str, units: tuple[str, ...] | None) -> set[int]:
    """The active residents whose name is ``LIKE '%q%'`` (the search before the index)."""
    scope = "" if units is None else "AND u.code IN :codes"
    query = text(
        "SELECT r.id FROM kernel_resident r JOIN kernel_org_unit u ON u.id = r.unit_id "
        f"WHERE r.status = 'active' AND r.name LIKE '%' || :q || '%' {scope}"
    )
    if units is not None:
        from sqlalchemy import bindparam

        query = query.bindparams(bindparam("codes", expanding=True))
    q = q.strip()  # as the search does
    params = {"q": q} if units is None else {"q": q, "codes": list(units)}
    with Session(kernel.engine) as session:
        return {row[0] for row in session.execute(query, params)}


def queries(kernel) -> list[str]:
    """One and two characters, whole names, three-character pieces, names nobody has, and
    the odd names' pieces (wildcards included)."""
    with Session(kernel.engine) as session:
        names = [n for (n,) in session.execute(text("SELECT name FROM kernel_resident"))]
    generated = [n for n in names if n not in ODD_NAMES]
    picked = generated[::37]
    found = {n[0] for n in picked} | {n[-2:] for n in picked} | set(picked)
    found |= {n[:3] for n in generated if len(n) > 3}
    return sorted(
        found
        | {"龘", "龘龘", "王龘明", "Anna", "anna", "nn", "A", "·", "艾力", "_", "%", "王_", "%王"}
        | {"三丰张", "张三丰张三", "欧阳", " "}
    )


def test_the_grams_a_search_looks_for():
    assert name_grams("王") == ["王"]
    assert name_grams("王伟") == ["王伟"]
    assert name_grams("王小明") == ["王小", "小明"]
    assert name_grams("张三张三") == ["张三", "三张"]  # each pair once


def test_every_search_answers_what_like_answers_in_scope(shequyun_kernel, people):
    scopes = {"city": None, "district": (W1, W2), "committee": (W1,)}
    for q in queries(shequyun_kernel):
        for level, units in scopes.items():
            actor = actor_of(shequyun_kernel, people[level])
            wanted = by_like(shequyun_kernel, q, units)
            filters = ResidentFilters(q=q)
            with Session(shequyun_kernel.engine) as session:
                found, after = [], None
                while True:
                    page = shequyun_kernel.residents.search(
                        session, actor, filters, after=after, limit=500
                    )
                    found += [item["id"] for item in page.items]
                    if page.next_cursor is None:
                        break
                    after = page.next_cursor
                rows, count = shequyun_kernel.residents.numbered_page(
                    session, actor, filters, sort="name", size=500
                )
            assert sorted(found) == sorted(wanted), (q, level)
            assert {r["id"] for r in rows} == wanted and count.n == len(wanted), (q, level)


def test_the_api_and_the_picker_search_names_the_same_way(shequyun_client, shequyun_kernel, people):
    district = people["district"]
    for q in ("王", "Anna", "欧阳娜", "王_明", "50%"):
        response = shequyun_client.get(
            "/api/v1/residents", params={"q": q, "limit": 500}, headers=district.auth
        )
        assert response.status_code == 200, response.text
        wanted = by_like(shequyun_kernel, q, (W1, W2))
        assert {item["id"] for item in response.json()["items"]} == wanted, q
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        for q, names in (("王_明", ["王_明"]), ("50%", ["50%王"]), ("欧阳", ["欧阳娜娜"])):
            picked = platform.pick(session, district.actor, "resident", q=q, limit=50)
            assert [p.label.split(" · ")[0] for p in picked] == names, q  # "_", "%" literal


def test_postgresql_answers_a_name_search_through_the_name_index(shequyun_kernel, people):
    with Session(shequyun_kernel.engine) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the name index is PostgreSQL's; SQLite keeps LIKE")
        actor = actor_of(shequyun_kernel, people["city"])  # no scope condition to use instead
        query = shequyun_kernel.residents.scoped_query(actor, ResidentFilters(q="欧阳娜"))
        compiled = query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
        )
        # Only a plan through an index on the name's grams may avoid reading the table. The
        # table's other indexes are dropped for the test (the transaction is rolled back): with
        # few rows a bitmap scan of the status index is estimated cheaper, and the question is
        # whether the name's condition can use its index, not which index a tiny table prefers.
        others = session.execute(
            text(
                "SELECT i.indexrelid::regclass::text FROM pg_index i"
                " WHERE i.indrelid = 'kernel_resident'::regclass"
                " AND i.indexrelid <> 'ix_kernel_resident_name_grams'::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
        ).scalars()
        for name in list(others):
            session.execute(text(f"DROP INDEX {name}"))  # a name PostgreSQL quoted as needed
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_indexscan = off"))
        explained = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(row[0] for row in explained)
    assert "ix_kernel_resident_name_grams" in plan, plan


def test_the_operators_guide_builds_the_index_the_migration_builds():
    """docs/operations.md gives the SQL to build the index beforehand: the migration's own."""
    import runpy
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    migration = runpy.run_path(
        str(root / "kernel/src/shequyun/migrations/versions/0024_resident_name_grams.py")
    )
    guide = (root / "docs/operations.md").read_text(encoding="utf-8")
    sql = guide.split("### The name index", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    function, index = sql.split("$$;\n", 1)
    assert " ".join(f"{function}$$".split()) == " ".join(migration["GRAMS"].split())
    assert " ".join(index.split()) == f"CREATE INDEX CONCURRENTLY {migration['INDEX']};"
