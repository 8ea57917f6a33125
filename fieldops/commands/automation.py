"""The automation feature's commands and wiring (see fieldops/features.py for the hooks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from core.services.context import ServiceContext
    from fieldops.wiring import System


def start(system: System) -> Callable[[], None] | None:
    """`fieldops serve` runs one worker beside the API (more may run as `fieldops worker`)."""
    from automation.worker import start_thread

    if not system.settings.automation_in_serve:
        return None
    return start_thread(system.runtime.sessions, system.runtime.clock)


def seed_demo(system: System, ctx: ServiceContext, echo: Callable[[str], None]) -> None:
    from automation import people, rules
    from core.domain.errors import Invalid

    if rules.ensure_seeded(ctx):
        echo("automation: the two shipped rules (urgent unhandled → escalate; 5 stars → promoter + 回访)")
    # Who the rules and escalations mean, for every territory and customer (edit at /automation/assignees).
    defaults: tuple[tuple[people.RoleName, str], ...] = (
        ("supervisor", "dispatcher"),
        ("service_manager", "admin"),
        ("account_owner", "admin"),
    )
    for role, username in defaults:
        try:
            people.put_assignee(ctx, people.AssigneeInput(role=role, username=username))
        except Invalid:  # a demo without that user simply has no one in the role
            ctx.session.rollback()


@click.command()
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds to sleep when idle.")
@click.option("--once", is_flag=True, help="Run one pass and exit (cron-style).")
@click.pass_context
def worker(ctx: click.Context, interval: float, once: bool) -> None:
    """Rules, time conditions, escalations and webhook deliveries. Run as many as you like."""
    from automation.worker import Worker
    from fieldops.wiring import build_system

    system = build_system(ctx.obj)
    w = Worker(system.runtime.sessions, system.runtime.clock, interval)
    if once:
        click.echo(w.tick())
        return
    stop = threading.Event()
    click.echo(f"automation worker {w.engine.worker} running (Ctrl-C stops)")
    try:
        w.run(stop)
    except KeyboardInterrupt:
        stop.set()


COMMANDS: list[click.Command] = [worker]
