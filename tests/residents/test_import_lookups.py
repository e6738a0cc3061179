"""The import's lookups on PostgreSQL send their thousands of values as one array literal
(``among``): values with quotes, backslashes, commas and braces arrive as they were."""

from __future__ import annotations

import pytest
from sqlalchemy import String, column, select, values
from sqlmodel import Session

from shequyun.residents.import_writer import among, array_text
from shequyun.residents.importing import apply_import
from shequyun.residents.models import Address

from .test_import import W1, actor_of, count, csv_bytes, good_rows

AWKWARD = ['潍坊"一"村', "a\\b", "c,d", "{e}", "NULL", " f ", "", 'g\\"h']


def test_array_literals_read_back_as_the_values(shequyun_kernel) -> None:
    engine = shequyun_kernel.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes an IN list")
    table = values(column("value", String), name="awkward").data([(v,) for v in AWKWARD])
    with Session(engine) as session:
        for wanted in (AWKWARD, AWKWARD[1:4], ["x"], []):
            query = select(table.c.value).where(among(table.c.value, wanted, True))
            found = sorted(session.execute(query).scalars())
            assert found == sorted(v for v in AWKWARD if v in wanted)
    assert array_text([3, 1, 2], False) == "{3,1,2}"


def test_a_compound_with_awkward_characters_is_found_by_the_next_file(
    shequyun_kernel, shequyun_actors
) -> None:
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))
    rows = good_rows(4)
    for row in rows:
        row[5:9] = ['潍坊"新"村,{1}\\南', "1", "1", "101"]  # one flat for all four
    assert apply_import(shequyun_kernel, cadre, csv_bytes(rows[:2]), "a.csv").applied
    assert count(shequyun_kernel, Address) == 1
    # The second file's lookup of the compound finds the flat rather than adding another.
    assert apply_import(shequyun_kernel, cadre, csv_bytes(rows[2:]), "b.csv").applied
    assert count(shequyun_kernel, Address) == 1
