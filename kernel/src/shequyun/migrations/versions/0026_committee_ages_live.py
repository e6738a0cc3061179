"""kernel: a committee's residents' ages are counted live, not kept in the tallies

The committees' month-of-birth rows were about one row per resident and no reader used them
(a committee's pyramid is counted from its own index); an import spent a third of its tally
writes keeping them. They are deleted; the rows of the units above stay as they are.

Revision ID: k0026_committee_ages_live
Revises: k0025_credential_changes
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "k0026_committee_ages_live"
down_revision = "k0025_credential_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM kernel_resident_tally WHERE measure = 'age' AND unit_id IN "
        "(SELECT id FROM kernel_org_unit WHERE level = 'committee')"
    )


def downgrade() -> None:
    # The older code keeps committee ages: without the rows it would add differences to
    # nothing, so readers count live (no state row) until the next rebuild counts them again.
    op.execute("DELETE FROM kernel_resident_tally_state")
