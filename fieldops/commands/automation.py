"""The automation feature's commands and wiring (see fieldops/features.py for the hooks)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
