"""Field work as a feature: what its jobs cost, shown wherever a customer is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fieldops.wiring import System

COMMANDS: list[click.Command] = []  # the hook every feature module has (fieldops.cli adds them)


def wire(system: System) -> None:  # the hook's signature; nothing to configure yet
    from fieldwork import annex

    annex.register()
