"""Automation routes: rules, escalations, tasks (filled in by the automation work)."""

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
