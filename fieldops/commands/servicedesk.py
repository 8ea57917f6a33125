"""The service desk's commands and wiring (see fieldops/features.py for the hooks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from core.services.context import ServiceContext
    from fieldops.wiring import System
    from servicedesk.config import DeskConfig


def desk_config(system: System) -> DeskConfig:
    from servicedesk.config import DeskConfig

    s = system.settings
    return DeskConfig(
        blobs=system.runtime.blobs,
        smtp_url=s.smtp_url,
        mail_from=s.mail_from,
        secret=s.resolved_secret_key(),
        public_url=s.public_url or f"http://{s.host}:{s.port}",
    )


def wire(system: System) -> None:
    from core.services import annex
    from servicedesk.knowledge import advice_for_work_orders
    from servicedesk.surveys import on_completion

    # Wherever a job is shown (the engineer's day), the knowledge articles that may help with it.
    annex.register("servicedesk", advice=advice_for_work_orders)

    cfg = desk_config(system)
    system.runtime.features["servicedesk"] = cfg
    # A finished job (signed off, or completed/closed by the dispatcher) asks its customer how it went.
    system.runtime.bus.subscribe(
        "work_order.transitioned", on_completion(system.runtime.sessions, system.runtime.clock, cfg)
    )


def seed_demo(system: System, ctx: ServiceContext, echo: Callable[[str], None]) -> None:
    from servicedesk import demo

    demo.seed(ctx, desk_config(system), echo)


def start(system: System) -> Callable[[], None] | None:
    s = system.settings
    if not s.intake_smtp_in_serve:
        return None
    from servicedesk.smtp_server import make_controller

    controller = make_controller(
        system.runtime.sessions,
        system.runtime.clock,
        desk_config(system),
        s.intake_smtp_host,
        s.intake_smtp_port,
    )
    controller.start()
    return controller.stop


@click.group()
def intake() -> None:
    """Service-desk intake channels."""


@intake.command()
@click.option("--host", default=None, help="Listen address (FIELDOPS_INTAKE_SMTP_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Listen port (FIELDOPS_INTAKE_SMTP_PORT, 2525).")
@click.pass_context
def smtp(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Receive mail to the service address: each message becomes a work order, a comment or a triage item."""
    from fieldops.wiring import build_system
    from servicedesk.smtp_server import make_controller

    system = build_system(ctx.obj)
    s = system.settings
    controller = make_controller(
        system.runtime.sessions,
        system.runtime.clock,
        desk_config(system),
        host or s.intake_smtp_host,
        port or s.intake_smtp_port,
    )
    controller.start()
    click.echo(f"SMTP intake listening on {controller.hostname}:{controller.port} (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


COMMANDS: list[click.Command] = [intake]
