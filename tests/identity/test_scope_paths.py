"""A subtree is the units whose path starts with a prefix, on every database, and on
PostgreSQL a prepared (generic) plan of a scoped query still reads the units by their path
index.

psycopg prepares a statement on its fifth run and PostgreSQL may then plan it once for any
parameters; the generic plan of ``path LIKE :prefix || '%'`` cannot use the index and read
every unit of the city in every list of a district or street user.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import String, bindparam, literal, select, union_all
from sqlmodel import Session

from shequyun.collection.results import _progress_statement
from shequyun.direct import CompiledStatement
from shequyun.identity.scope import path_under
from shequyun.residents.list_page import plain_page

PATHS = [
    "/1/",
    "/1/3/",
    "/1/3/12/",
    "/1/3/12/400/",
    "/1/30/",
    "/1/31/7/",
    "/1/2/",
    "/1/4/",
    "/1/2/3/",
    "/1/23/",
    "/10/3/",
    "/2/1/3/",
]


@pytest.mark.parametrize("prefix", ["/1/", "/1/3/", "/1/3/12/", "/1/2/", "/1/30/", "/9/"])
@pytest.mark.parametrize("bound", [False, True], ids=["literal", "parameter"])
def test_a_prefix_selects_exactly_the_paths_that_start_with_it(shequyun_kernel, prefix, bound):
    table = union_all(*(select(literal(p, String).label("path")) for p in PATHS)).subquery()
    condition = path_under(table.c.path, bindparam("prefix") if bound else prefix)
    with Session(shequyun_kernel.engine) as session:
        found = session.execute(
            select(table.c.path).where(condition), {"prefix": prefix} if bound else {}
        )
        assert sorted(r[0] for r in found) == sorted(p for p in PATHS if p.startswith(prefix))


def _generic_plan(engine: Any, statement: Any, given: dict[str, Any]) -> str:
    """The plan PostgreSQL makes of ``statement`` prepared, once for any parameters."""
    compiled = CompiledStatement(statement, engine.dialect)
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", number, compiled.sql).replace("%%", "%")
    arguments = ", ".join(
        str(given[n]) if isinstance(given[n], int) else f"'{given[n]}'" for n in names
    )
    with Session(engine) as session:
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql(f"PREPARE scoped AS {sql}")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE scoped({arguments})")
        )
        session.rollback()
    return plan


def _postgres(shequyun_kernel: Any) -> Any:
    engine = shequyun_kernel.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared plans are PostgreSQL's")
    return engine


def test_the_prepared_plan_of_a_districts_resident_list_reads_units_by_their_path_index(
    shequyun_kernel,
):
    engine = _postgres(shequyun_kernel)
    plan = _generic_plan(
        engine, plain_page(True, "subtree", "any", False), {"scope": "/1/2/", "limit": 50}
    )
    assert "Seq Scan on kernel_org_unit" not in plan, plan
    assert "ix_kernel_org_unit_path" in plan, plan


def test_the_prepared_plan_of_a_districts_progress_reads_units_by_their_path_index(
    shequyun_kernel,
):
    engine = _postgres(shequyun_kernel)
    statement = _progress_statement("street", "subtree", True).statement
    plan = _generic_plan(
        engine, statement, {"campaign_id": 1, "scope": "/1/2/", "within": "/1/2/3/"}
    )
    assert "Seq Scan on kernel_org_unit" not in plan, plan
    assert plan.count("ix_kernel_org_unit_path") == 2, plan
