"""The automation feature's commands and wiring (see fieldops/features.py for the hooks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from automation.care.runout import Reading
    from core.services.context import ServiceContext
    from fieldops.wiring import System

# How far back a counter sample may look for the metric in telemetry (a device that stopped reporting
# the counter gives no sample rather than a very old one).
COUNTER_SAMPLE_WINDOW = timedelta(days=7)


def telemetry_counter(
    session: Session, asset_id: int, counter: str, instants: Sequence[datetime]
) -> list[Reading]:
    """Care's usage counters from IoT telemetry: the counter's last value at or before each instant.

    Composition-root glue: automation may not import the IoT feature, so this reader is registered into
    `automation.care.usage` when the system is wired. Each instant is one look-up on (asset_id, ts).
    """
    import sqlalchemy as sa

    from automation.care.runout import Reading
    from iot.models import TelemetryRow

    value = TelemetryRow.metrics[counter].as_float()
    out = []
    for at in instants:
        row = session.execute(
            sa.select(TelemetryRow.ts, value)
            .where(
                TelemetryRow.asset_id == asset_id,
                TelemetryRow.ts <= at,
                TelemetryRow.ts > at - COUNTER_SAMPLE_WINDOW,
                value.is_not(None),
            )
            .order_by(TelemetryRow.ts.desc())
            .limit(1)
        ).first()
        if row is not None:
            out.append(Reading(row[0], float(row[1])))
    return out


def wire(system: System) -> None:
    """Consumables' usage counters may come from device telemetry."""
    from automation.care import usage

    usage.register("iot-telemetry", telemetry_counter)


def start(system: System) -> Callable[[], None] | None:
    """`fieldops serve` runs one worker beside the API (more may run as `fieldops worker`)."""
    from automation.worker import start_thread

    if not system.settings.automation_in_serve:
        return None
    return start_thread(system.runtime.sessions, system.runtime.clock)


def seed_demo(system: System, ctx: ServiceContext, echo: Callable[[str], None]) -> None:
    import random

    from automation import people, rules
    from automation.care import demo
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
    demo.seed(ctx, random.Random(20261202), echo)  # noqa: S311 (repeatable demo data)


@click.command()
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds to sleep when idle.")
@click.option("--once", is_flag=True, help="Run one pass and exit (cron-style).")
@click.pass_context
def worker(ctx: click.Context, interval: float, once: bool) -> None:
    """Rules, time conditions, escalations, webhook deliveries, proactive care. Run as many as you like."""
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


@click.group()
def care() -> None:
    """Proactive care: consumable run-outs, key dates, churn risk, the service-volume forecast."""


@care.command()
@click.option("--no-run", is_flag=True, help="Print what the last care pass stored, without running one now.")
@click.pass_context
def report(ctx: click.Context, no_run: bool) -> None:
    """Run a care pass now (as a worker would) and print what it found."""
    from automation.care import report as text
    from automation.care.runner import run_pass
    from core.services.context import Actor, ServiceContext
    from fieldops.wiring import build_system

    system = build_system(ctx.obj)
    rt = system.runtime
    took = None
    if not no_run:
        started = time.perf_counter()
        result = run_pass(rt.sessions, rt.clock)
        took = time.perf_counter() - started
        for step, out in result.items():
            if isinstance(out, dict) and "error" in out:
                click.echo(f"care: the {step} step failed: {out['error']}", err=True)
    with rt.sessions() as session:
        click.echo(text.render(ServiceContext(session, rt.clock, Actor.system("cli")), took), nl=False)


COMMANDS: list[click.Command] = [worker, care]
