"""(being written) `shequyun org` commands."""

from __future__ import annotations

import click


@click.group("org")
def org() -> None:
    """org commands."""
