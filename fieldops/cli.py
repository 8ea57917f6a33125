"""The `fieldops` command: serve, migrate, demo, user add (and, as they land, ingest, worker, simulate)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click
import msgspec

from fieldops.settings import Settings, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """fieldops: field-service dispatch and mobile backend.

    Configuration comes from FIELDOPS_* environment variables (see README); with none set, fieldops runs
    on the embedded default: a SQLite file under ./.fieldops and an in-process MQTT broker.
    """
    ctx.obj = load_settings()


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    base: Settings = ctx.obj
    return msgspec.structs.replace(base, **{k: v for k, v in overrides.items() if v is not None})


@cli.command()
@click.option("--host", help="Interface to listen on (FIELDOPS_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (FIELDOPS_PORT, default 8000).")
@click.option("--demo/--no-demo", default=False, help="Load the demo data first if the database is empty.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, demo: bool) -> None:
    """Run the API server (migrating the embedded SQLite database first)."""
    import uvicorn

    from fieldops.logs import configure_logging
    from fieldops.migrate import upgrade
    from fieldops.wiring import build_app, build_system

    settings = _settings(ctx, host=host, port=port)
    if demo and "FIELDOPS_DEMO_DEVICES" not in os.environ:
        # The demo's machines talk real MQTT to the embedded broker, a few of them drifting towards failure.
        settings = msgspec.structs.replace(settings, demo_devices=12)
    configure_logging(settings.log_format, settings.log_level)
    system = build_system(settings)
    if settings.is_embedded_db or settings.auto_migrate:
        click.echo(f"migrating {system.engine.url.render_as_string(hide_password=True)} …", err=True)
        upgrade(system.engine)
    if demo:
        from fieldops.demo import load_demo

        load_demo(system, echo=lambda line: click.echo(line, err=True))
    from fieldops.features import start_features

    # uvicorn re-raises SIGTERM once it has shut down; exiting normally lets the features below stop cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stops = start_features(system)
    click.echo(f"fieldops listening on http://{settings.host}:{settings.port}  (API docs: /schema)", err=True)
    try:
        uvicorn.run(build_app(system), host=settings.host, port=settings.port, log_level=settings.log_level)
    finally:
        for stop in reversed(stops):
            stop()


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database (FIELDOPS_DATABASE_URL) to the newest schema."""
    from core.store.db import make_engine
    from fieldops.migrate import current_heads, upgrade

    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    click.echo(f"database at {', '.join(sorted(current_heads(engine)))}")


@cli.command()
@click.option("--force", is_flag=True, help="Load even if the database already has data.")
@click.pass_context
def demo(ctx: click.Context, force: bool) -> None:
    """Load the demo data set (Shanghai customers, engineers, work orders, users)."""
    from fieldops.demo import load_demo
    from fieldops.migrate import upgrade
    from fieldops.wiring import build_system

    system = build_system(ctx.obj)
    upgrade(system.engine)
    load_demo(system, force=force, echo=click.echo)


@cli.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "dispatcher", "engineer", "customer"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--engineer-id", type=int, help="For --role engineer: the engineer this account is.")
@click.option("--customer-id", type=int, help="For --role customer: the customer this account belongs to.")
@click.pass_context
def user_add(
    ctx: click.Context,
    username: str,
    role: str,
    password: str,
    display_name: str | None,
    engineer_id: int | None,
    customer_id: int | None,
) -> None:
    """Create a user account."""
    import msgspec

    from core.domain.errors import DomainError
    from core.services.context import Actor, ServiceContext
    from core.services.users import UserInput, create_user
    from fieldops.wiring import build_system

    system = build_system(ctx.obj)
    try:
        data = msgspec.convert(
            {
                "username": username,
                "password": password,
                "role": role,
                "display_name": display_name,
                "engineer_id": engineer_id,
                "customer_id": customer_id,
            },
            UserInput,
        )
        with system.runtime.sessions() as session:
            created = create_user(ServiceContext(session, system.runtime.clock, Actor.system("cli")), data)
    except (msgspec.ValidationError, DomainError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {created.role} {created.username} (id {created.id})")


def _register_feature_commands() -> None:
    from fieldops.features import FEATURES

    for feature in FEATURES:
        for command in feature.COMMANDS:
            cli.add_command(command)


_register_feature_commands()


def main() -> None:
    cli(prog_name="fieldops")


if __name__ == "__main__":
    main()
