"""The dispatch feature's commands and wiring (see fieldops/features.py for the hooks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from fieldops.settings import Settings

if TYPE_CHECKING:
    from dispatch.planning.config import PlanningConfig
    from fieldops.wiring import System


def config_of(settings: Settings) -> PlanningConfig:
    from dispatch.planning.config import PlanningConfig

    return PlanningConfig(
        osrm_url=settings.osrm_url,
        travel_speed_kmh=settings.travel_speed_kmh,
        travel_circuity=settings.travel_circuity,
        optimizer_seconds=settings.optimizer_seconds,
    )


def wire(system: System) -> None:
    from dispatch.planning.feature import DispatchFeature
    from dispatch.planning.replan import Replanner

    rt = system.runtime
    replanner = Replanner(rt.sessions, rt.clock, config_of(system.settings))
    rt.features["dispatch"] = DispatchFeature(replanner.config, replanner)
    rt.bus.subscribe("work_order.created", replanner.on_created)


def start(system: System) -> Callable[[], None] | None:
    from dispatch.planning.feature import DispatchFeature

    feature = system.runtime.features.get("dispatch")
    return feature.replanner.start() if isinstance(feature, DispatchFeature) else None


@click.command("plan")
@click.option("--territory-id", type=int, required=True)
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Local date, YYYY-MM-DD.")
@click.option("--seconds", type=float, help="Time limit (at most the optimizer_seconds setting).")
@click.option("--commit", "do_commit", is_flag=True, help="Commit the proposal at once.")
@click.pass_context
def plan(ctx: click.Context, territory_id: int, day: date, seconds: float | None, do_commit: bool) -> None:
    """Optimise a territory's day: print the proposal's diff, and commit it with --commit."""
    from core.domain.errors import DomainError
    from core.services.context import Actor, ServiceContext
    from dispatch.planning import proposals
    from fieldops.wiring import build_system

    settings: Settings = ctx.obj
    system = build_system(settings)
    config = config_of(settings)
    with system.runtime.sessions() as session:
        sctx = ServiceContext(session, system.runtime.clock, Actor.system("cli"))
        try:
            p = proposals.optimise(
                sctx, config, territory_id, day.date() if isinstance(day, datetime) else day,
                time_limit=seconds, report=lambda m: click.echo(f"… {m}", err=True),
            )  # fmt: skip
            diff = p.diff
            click.echo(f"proposal {p.id}: objective {p.objective:.0f}, {p.solver_status}")
            click.echo(f"travel km {diff['travel_km']['before']} -> {diff['travel_km']['after']}")
            late = diff["lateness_minutes"]
            click.echo(f"lateness min {late['before']} -> {late['after']}")
            kinds = ("added", "moved", "retimed", "withdrawn", "unassigned")
            click.echo(", ".join(f"{k} {len(diff[k])}" for k in kinds))
            for u in diff["unassigned"]:
                click.echo(f"  {u['reference']}: {u['reason']} ({u['detail']})")
            if do_commit:
                proposals.commit(sctx, p.id)
                click.echo(f"committed proposal {p.id}")
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc


COMMANDS: list[click.Command] = [plan]
