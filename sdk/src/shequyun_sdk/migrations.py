"""Help for a plugin's Alembic migrations.

A migration that starts keeping a personal value sealed (or stops) must seal the rows already
there, with the platform's data key. ``shequyun db upgrade`` hands the key's functions to the
migrations it runs; :func:`sealer` gives them to yours::

    from shequyun_sdk.migrations import sealer

    def upgrade() -> None:
        rows = op.get_bind().execute(sa.text("SELECT id, phone FROM myplugin_contact")).all()
        # Take the key before changing anything (SQLite runs each ALTER on its own), and only
        # when there are rows: an empty database needs none (the test harness migrates those).
        seal = sealer() if rows else None
        op.add_column("myplugin_contact", sa.Column("phone_sealed", sa.Text()))
        ...
        for row in rows:
            ...  # seal.seal(row.phone), seal.lookup_hash(row.phone)
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["SEALER_ATTRIBUTE", "Sealer", "SealerMissing", "sealer"]

#: Where the platform leaves its sealer in the Alembic configuration's ``attributes``.
SEALER_ATTRIBUTE = "shequyun.sealer"


class Sealer(Protocol):
    """The sealed-value functions of :class:`~shequyun_sdk.Platform` (the same key)."""

    def seal(self, value: str) -> str:
        """Encrypt ``value`` as :meth:`Platform.seal <shequyun_sdk.Platform.seal>` does."""
        ...

    def unseal(self, sealed: str) -> str:
        """The value :meth:`seal` encrypted."""
        ...

    def lookup_hash(self, value: str) -> str:
        """The keyed hash :meth:`Platform.lookup_hash <shequyun_sdk.Platform.lookup_hash>`
        gives for ``value``."""
        ...


class SealerMissing(RuntimeError):
    """The migration runs without the platform's data key (not under ``shequyun db upgrade``)."""


def sealer() -> Sealer:
    """The platform's :class:`Sealer`, inside a migration that ``shequyun db upgrade`` (or the
    kernel's ``upgrade_database``) runs.

    Raises :class:`SealerMissing` when the migration runs some other way (plain ``alembic``,
    a test's own configuration): call it only when there are rows to seal or unseal.
    """
    from alembic import op  # the kernel's dependency; plugins' migrations import it anyway

    config = op.get_context().config
    found = config.attributes.get(SEALER_ATTRIBUTE) if config is not None else None
    if found is None:
        raise SealerMissing(
            "this migration seals personal values with the platform's data key; run it with "
            "`shequyun db upgrade` (with the site's data_key configured)"
        )
    sealing: Sealer = found
    return sealing
