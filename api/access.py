"""Who may do what: the one table of permissions, and the one guard that enforces it.

Every route names a permission in its `opt` (or is marked public); a route with neither is refused
to everyone, so forgetting to protect an endpoint fails closed. Finer rules that depend on the data
("an engineer sees only their own visits") live in the use cases.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.services.context import Actor, Role

A, D, E, C, DEV = Role.ADMIN, Role.DISPATCHER, Role.ENGINEER, Role.CUSTOMER, Role.DEVICE

PERMISSIONS: dict[str, frozenset[Role]] = {
    "account": frozenset({A, D, E, C, DEV}),
    # Engineers may read work orders, but the use case narrows them to their own visits.
    "work_orders.read": frozenset({A, D, E}),
    "work_orders.write": frozenset({A, D}),
    "visits.read": frozenset({A, D, E}),
    "visits.write": frozenset({A, D}),
    "records.read": frozenset({A, D}),
    "records.write": frozenset({A, D}),
    "setup.read": frozenset({A, D}),
    "setup.write": frozenset({A}),
    "users.manage": frozenset({A}),
    # The engineer's app (/mobile/v1): only engineers, each on their own visits.
    "mobile": frozenset({E}),
    # Spare parts (inventory/): the catalogue, stock levels and the ledger.
    "catalogue.write": frozenset({A, D}),
    "stock.read": frozenset({A, D}),
    "stock.write": frozenset({A, D}),
    # Devices and telemetry (iot/).
    "devices.read": frozenset({A, D}),
    "devices.manage": frozenset({A}),
    "alarms.read": frozenset({A, D}),
    "alarms.write": frozenset({A, D}),
    # Planning (dispatch/): optimisation proposals, committed plans, pins.
    "plans.read": frozenset({A, D}),
    "plans.write": frozenset({A, D}),
    # Automation: rules are admin business; dispatchers see them and work the tasks and escalations.
    "rules.read": frozenset({A, D}),
    "rules.manage": frozenset({A}),
    "tasks.read": frozenset({A, D}),
    "tasks.write": frozenset({A, D}),
    "integrations.manage": frozenset({A}),
    # Service desk: agents log calls and work the triage queue; customers use the portal (their company only).
    "intake.write": frozenset({A, D}),
    "triage.read": frozenset({A, D}),
    "triage.write": frozenset({A, D}),
    "portal": frozenset({C}),
    "knowledge.read": frozenset({A, D, E}),
    "knowledge.write": frozenset({A, D}),
    "surveys.read": frozenset({A, D}),
    "surveys.manage": frozenset({A}),
    "customers.insight": frozenset({A, D}),
    # The dispatcher's console: the board and its live feed (engineers use the app, not the console).
    "board.read": frozenset({A, D}),
}


# Served to anyone: liveness/readiness probes and the API documentation.
PUBLIC_PATHS = ("/health", "/ready", "/schema", "/console")


def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if handler.opt.get("exclude_from_auth") or connection.scope["path"].startswith(PUBLIC_PATHS):
        return
    actor = connection.scope.get("user")
    if not isinstance(actor, Actor):
        raise NotAuthorizedException(
            "sign in first: POST /auth/token, then send Authorization: Bearer <token>"
        )
    permission = handler.opt.get("permission")
    allowed = PERMISSIONS.get(permission) if isinstance(permission, str) else None
    if allowed is None or actor.role not in allowed:
        raise PermissionDeniedException(
            f"the {actor.role} role may not do this ({permission or 'unlisted route'})"
        )


def needs(permission: str) -> dict[str, Any]:
    """Route options for a protected handler: `@get(..., opt=needs("work_orders.read"))`."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return {"permission": permission}


def public() -> dict[str, Any]:
    """Route options for a handler anyone may call (sign-in, probes)."""
    return {"exclude_from_auth": True}
