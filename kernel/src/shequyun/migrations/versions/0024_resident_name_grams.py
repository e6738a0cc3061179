"""kernel: an index that answers a name search (``name LIKE '%q%'``) on PostgreSQL

A district-wide name search read every resident of the district (1.3 s at 5M residents, about
7 s extrapolated to 25M). Chinese names are two or three characters, and people type one or two
of them, too short for trigrams; so the index holds each name's characters and pairs of
adjacent characters (``kernel_name_grams``), in a GIN index of core PostgreSQL: no extension
to install (``residents/name_search.py`` says how searches use it). SQLite keeps ``LIKE``.

Building it reads the whole resident table and blocks writes to it meanwhile (about 25 s per
million names on a busy 2-core machine); a large database can build it beforehand without
blocking, with the same definition and ``CREATE INDEX CONCURRENTLY`` (docs/operations.md, "The
name index"): this migration then finds it and leaves it.

Revision ID: k0024_resident_name_grams
Revises: k0023_org_unit_path_pattern
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "k0024_resident_name_grams"
down_revision = "k0023_org_unit_path_pattern"
branch_labels = None
depends_on = None

# Each character and each pair of adjacent characters: {王,小,明,王小,小明} for 王小明.
# PL/pgSQL (installed in every database) computes it 3-5x faster than a set-returning SQL
# query, which is what building the index and every write of a resident pay. Only pg_catalog
# functions inside, so that the index can be rebuilt under any search_path (pg_restore runs
# with an empty one). COST 1, not PL/pgSQL's default 100: searches put it after the LIKE it
# narrows, so a plan that walks the residents in id order (the best one for a common
# character) computes it for the few rows LIKE lets through; at 100 the planner charged it
# for every row and chose to read all the city's residents named 王 instead.
GRAMS = """
CREATE OR REPLACE FUNCTION kernel_name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1
AS $$
DECLARE
  grams text[] := string_to_array(name, NULL);
BEGIN
  FOR i IN 1 .. char_length(name) - 1 LOOP
    grams := grams || substr(name, i, 2);
  END LOOP;
  RETURN grams;
END
$$
"""
INDEX = "ix_kernel_resident_name_grams ON kernel_resident USING gin (kernel_name_grams(name))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(GRAMS)
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_kernel_resident_name_grams")
    op.execute("DROP FUNCTION IF EXISTS kernel_name_grams(text)")
