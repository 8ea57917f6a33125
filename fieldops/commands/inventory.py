"""`fieldops inventory …` commands (filled in by the inventory work)."""

import click


@click.group()
def inventory() -> None:
    """Spare parts and stock."""
