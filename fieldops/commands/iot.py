"""`fieldops iot …` (devices, broker ACLs, telemetry upkeep), `fieldops ingest` and `fieldops simulate`.

`COMMANDS` holds the two top-level commands for `fieldops.cli` to register; `start_embedded_iot` is what
`fieldops serve` starts on the embedded default (broker + ingest worker + detection in-process).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fieldops.settings import Settings

if TYPE_CHECKING:
    from fieldops.wiring import System
    from iot.broker import EmbeddedBroker
    from iot.demo import DemoFleet
    from iot.ingest import IngestWorker
    from iot.monitor import Monitor
    from iot.mqtt import BrokerUrl
    from iot.nudge import Nudger
    from iot.upkeep import Upkeep


def embedded_ingest_password(settings: Settings) -> str:
    """The ingest account's secret on the embedded broker: generated once into the data dir."""
    path = Path(settings.data_dir) / "mqtt-ingest.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def broker_for(settings: Settings) -> tuple[BrokerUrl, bool]:
    """Where the ingest worker connects, and whether with MQTT 5 shared subscriptions."""
    from iot.mqtt import BrokerUrl
    from iot.registry import INGEST_USER

    if settings.mqtt_url:
        return BrokerUrl.parse(settings.mqtt_url), True
    return BrokerUrl(
        "127.0.0.1", settings.embedded_mqtt_port, INGEST_USER, embedded_ingest_password(settings), False
    ), False


def default_worker_id() -> str:
    return os.environ.get("FIELDOPS_INGEST_WORKER_ID") or socket.gethostname()


@dataclass
class EmbeddedIot:
    """What `fieldops serve` runs beside the API: broker (embedded only), ingest, detection, nudges."""

    broker: EmbeddedBroker | None
    worker: IngestWorker
    monitor: Monitor
    nudger: Nudger | None = None
    fleet: DemoFleet | None = None
    upkeep: Upkeep | None = None

    def stop(self) -> None:
        # Devices first (so their last messages can still be stored), the broker last.
        for step in (
            self.fleet.stop if self.fleet else None,
            self.upkeep.stop if self.upkeep else None,
            self.worker.stop,
            self.monitor.stop,
            self.nudger.stop if self.nudger else None,
            self.broker.stop if self.broker else None,
        ):
            if step is None:
                continue
            try:
                step()
            except Exception as exc:  # stopping the rest matters more than this one's error
                click.echo(f"iot: stopping failed: {exc}", err=True)


def start_embedded_iot(system: System, *, worker_id: str = "embedded") -> EmbeddedIot:
    """Start the in-process broker (when no FIELDOPS_MQTT_URL), one ingest worker and the detection stage."""
    from iot.broker import EmbeddedBroker
    from iot.ingest import IngestConfig, IngestWorker
    from iot.monitor import Monitor, MonitorConfig
    from iot.registry import INGEST_USER

    settings, rt = system.settings, system.runtime
    broker = None
    url, v5 = broker_for(settings)
    if not settings.mqtt_url:
        broker = EmbeddedBroker(
            rt.sessions,
            host="127.0.0.1",
            port=settings.embedded_mqtt_port,
            service_accounts={INGEST_USER: embedded_ingest_password(settings)},
            engineer_secret=settings.resolved_secret_key(),
        )
        broker.start()
    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig(worker_id=worker_id))
    # amqtt drops a message whose PUBACK is 5 s late: acknowledge on receipt there (iot.ingest).
    config = IngestConfig(broker=url, worker_id=worker_id, v5=v5, ack_on_receipt=not settings.mqtt_url)
    worker = IngestWorker(rt.sessions, rt.clock, config, on_stored=monitor.wake)
    monitor.start()
    try:
        worker.start()
    except Exception:
        monitor.stop()
        if broker is not None:
            broker.stop()
        raise
    return EmbeddedIot(broker, worker, monitor)


# ---------------------------------------------------------------- the feature hooks


def wire(system: System) -> None:
    """Nudge engineers' apps over MQTT when their plan changes (publishing begins in `start`); show alarm
    evidence and open alarms wherever a job is shown."""
    from iot import annex
    from iot.nudge import IotFeature, Nudger

    annex.register()

    rt = system.runtime
    nudger = Nudger(rt.sessions, rt.clock, client_id=f"fieldops-nudge-{socket.gethostname()}-{os.getpid()}")
    nudger.subscribe(rt.bus)
    rt.features["iot"] = IotFeature(nudger, engineer_secret=system.settings.resolved_secret_key())


def start(system: System) -> Callable[[], None] | None:
    """`fieldops serve`: the embedded broker unless FIELDOPS_MQTT_URL is set, one ingest worker with the
    detection stage, the nudger, and with FIELDOPS_DEMO_DEVICES > 0 the demo's simulated devices."""
    settings = system.settings
    # Beside a production broker the API process is one more ingest worker of the shared group.
    worker_id = f"serve-{default_worker_id()}" if settings.mqtt_url else "embedded"
    try:
        running = start_embedded_iot(system, worker_id=worker_id)
    except Exception as exc:
        # The API is worth serving without telemetry (e.g. the MQTT port is taken): say so loudly.
        click.echo(f"iot: not started ({exc}); telemetry is not ingested", err=True)
        return None
    from iot.nudge import IotFeature
    from iot.upkeep import Upkeep

    rt = system.runtime
    running.upkeep = Upkeep(rt.sessions, rt.clock, timedelta(days=settings.telemetry_retention_days))
    running.upkeep.start()
    url, _ = broker_for(settings)
    feature = system.runtime.features.get("iot")
    if isinstance(feature, IotFeature):
        feature.nudger.start(url)
        running.nudger = feature.nudger
    if settings.demo_devices > 0:
        running.fleet = start_demo_fleet(system, url)
    return running.stop


def start_demo_fleet(system: System, url: BrokerUrl) -> DemoFleet | None:
    from iot.demo import provision, run_fleet

    settings, rt = system.settings, system.runtime
    creds = provision(
        rt.sessions, rt.clock, settings.demo_devices, Path(settings.data_dir) / "demo-devices.json"
    )
    if not creds:
        return None
    click.echo(f"demo: {len(creds)} simulated devices publishing to {url.host}:{url.port}", err=True)
    return run_fleet(url, creds)


# ---------------------------------------------------------------- fieldops iot …


@click.group()
def iot() -> None:
    """Devices, broker access lists and telemetry."""


@iot.command("acl")
@click.option(
    "--passwd",
    "passwd_path",
    type=click.Path(path_type=Path),
    default=Path("deploy/mosquitto/generated/passwd"),
    show_default=True,
    help="Mosquitto password file to write.",
)
@click.option(
    "--acl",
    "acl_path",
    type=click.Path(path_type=Path),
    default=Path("deploy/mosquitto/generated/acl"),
    show_default=True,
    help="Mosquitto ACL file to write.",
)
@click.option(
    "--ingest-password",
    envvar="FIELDOPS_MQTT_INGEST_PASSWORD",
    help="The ingest account's password (default: the one in FIELDOPS_MQTT_URL).",
)
@click.pass_context
def acl(ctx: click.Context, passwd_path: Path, acl_path: Path, ingest_password: str | None) -> None:
    """Write Mosquitto's password file and ACL from the device registry (then SIGHUP Mosquitto)."""
    from fieldops.wiring import build_system
    from iot.mqtt import BrokerUrl
    from iot.registry import INGEST_USER, broker_files, write_broker_files

    settings: Settings = ctx.obj
    if ingest_password is None and settings.mqtt_url:
        url = BrokerUrl.parse(settings.mqtt_url)
        if url.username == INGEST_USER:
            ingest_password = url.password
    if not ingest_password:
        raise click.ClickException(
            f"give the {INGEST_USER} account's password "
            "(--ingest-password, or user:password in FIELDOPS_MQTT_URL)"
        )
    system = build_system(settings)
    with system.runtime.sessions() as session:
        # Engineers' app accounts too (read their own assignments topic); their passwords derive from
        # FIELDOPS_SECRET_KEY, so every API replica and this file agree.
        files = broker_files(
            session, {INGEST_USER: ingest_password}, engineer_secret=settings.resolved_secret_key()
        )
    write_broker_files(files, passwd_path, acl_path)
    click.echo(
        f"wrote {passwd_path} and {acl_path}: {files.devices} devices, {files.engineers} engineers "
        f"+ {INGEST_USER}"
    )


@iot.command("register")
@click.argument("device_id")
@click.option("--asset-id", type=int, required=True, help="The asset this device reports for.")
@click.option("--name", help="A label for people.")
@click.pass_context
def register(ctx: click.Context, device_id: str, asset_id: int, name: str | None) -> None:
    """Register a device and print its secret (shown once; only hashes are kept)."""
    import msgspec

    from core.domain.errors import DomainError
    from core.services.context import Actor, ServiceContext
    from fieldops.wiring import build_system
    from iot.registry import DeviceInput, register_device

    system = build_system(ctx.obj)
    try:
        data = msgspec.convert({"id": device_id, "asset_id": asset_id, "name": name}, DeviceInput)
        with system.runtime.sessions() as session:
            created = register_device(
                ServiceContext(session, system.runtime.clock, Actor.system("cli")), data
            )
    except (msgspec.ValidationError, DomainError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"device {device_id} registered for asset {asset_id}; its MQTT password (shown once):")
    click.echo(created.password)


@iot.command("provision")
@click.option("--count", type=int, default=20, show_default=True, help="How many devices.")
@click.option("--prefix", default="sim-", show_default=True, help="Device ids are PREFIX0001, PREFIX0002, …")
@click.option(
    "--credentials-out",
    type=click.Path(path_type=Path),
    required=True,
    help="JSON file of device → password, for `fieldops simulate --credentials`.",
)
@click.pass_context
def provision(ctx: click.Context, count: int, prefix: str, credentials_out: Path) -> None:
    """Register simulated devices on the existing assets, round-robin (for the demo)."""
    import sqlalchemy as sa

    from core.services.context import Actor, ServiceContext
    from core.store.models import Asset
    from fieldops.wiring import build_system
    from iot.models import Device
    from iot.registry import DeviceInput, register_device

    system = build_system(ctx.obj)
    creds: dict[str, str] = {}
    with system.runtime.sessions() as session:
        assets = list(session.scalars(sa.select(Asset.id).order_by(Asset.id)))
        if not assets:
            raise click.ClickException("no assets yet: load the demo (`fieldops demo`) or create some")
        c = ServiceContext(session, system.runtime.clock, Actor.system("cli"))
        for i in range(count):
            device_id = f"{prefix}{i + 1:04d}"
            if session.get(Device, device_id) is None:
                creds[device_id] = register_device(
                    c, DeviceInput(id=device_id, asset_id=assets[i % len(assets)])
                ).password
    credentials_out.write_text(json.dumps(creds, indent=1))
    credentials_out.chmod(0o600)
    click.echo(f"registered {len(creds)} devices; credentials in {credentials_out}")


@iot.command("maintain")
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    help="Drop telemetry older than this (default: FIELDOPS_TELEMETRY_RETENTION_DAYS, 400).",
)
@click.option("--months-ahead", type=int, default=2, show_default=True)
@click.pass_context
def maintain(ctx: click.Context, retention_days: int | None, months_ahead: int) -> None:
    """Create telemetry partitions ahead and apply the retention (the ingest worker also does this hourly)."""
    from fieldops.wiring import build_system
    from iot.store import maintain_partitions

    system = build_system(ctx.obj)
    retention = timedelta(days=retention_days or system.settings.telemetry_retention_days)
    with system.runtime.sessions() as session:
        done = maintain_partitions(
            session, system.runtime.clock.now(), months_ahead=months_ahead, retention=retention
        )
    click.echo(
        f"partitions created: {done.created or 'none'}; dropped: {done.dropped or 'none'}; "
        f"rows deleted: {done.deleted_rows}"
    )


# ---------------------------------------------------------------- fieldops ingest


@click.command()
@click.option(
    "--worker-id",
    default=default_worker_id,
    help="Stable id (the broker keeps its session). Default: $FIELDOPS_INGEST_WORKER_ID or host name.",
)
@click.option("--batch-size", type=int, default=2000, show_default=True)
@click.option(
    "--batch-wait-ms", type=int, default=50, show_default=True, help="Longest wait to fill a batch."
)
@click.option(
    "--detect/--no-detect",
    default=True,
    show_default=True,
    help="Also run the detection stage (its share of the assets).",
)
@click.option(
    "--mqtt3",
    is_flag=True,
    help="MQTT 3.1.1 even on Mosquitto, still with $share (a Mosquitto extension): faster in paho; "
    "needs max_inflight_messages >= the batch size in mosquitto.conf.",
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    help="Drop telemetry older than this (default: FIELDOPS_TELEMETRY_RETENTION_DAYS, 400).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    worker_id: str,
    batch_size: int,
    batch_wait_ms: int,
    detect: bool,
    mqtt3: bool,
    retention_days: int | None,
) -> None:
    """Run an ingest worker: MQTT telemetry → validated batches → the database (→ detection → alarms)."""
    from fieldops.logs import configure_logging
    from fieldops.wiring import build_system
    from iot.ingest import IngestConfig, IngestWorker
    from iot.monitor import Monitor, MonitorConfig
    from iot.upkeep import Upkeep

    settings: Settings = ctx.obj
    configure_logging(settings.log_format, settings.log_level)
    system = build_system(settings)
    rt = system.runtime
    url, v5 = broker_for(settings)
    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig(worker_id=worker_id)) if detect else None
    worker = IngestWorker(
        rt.sessions,
        rt.clock,
        IngestConfig(
            broker=url,
            worker_id=worker_id,
            v5=v5 and not mqtt3,
            shared=v5,
            batch_size=batch_size,
            batch_wait_s=batch_wait_ms / 1000,
            ack_on_receipt=not settings.mqtt_url,
        ),
        on_stored=monitor.wake if monitor else None,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    upkeep = Upkeep(
        rt.sessions, rt.clock, timedelta(days=retention_days or settings.telemetry_retention_days)
    )
    upkeep.run_once()
    if monitor is not None:
        monitor.start()
    worker.start()
    upkeep.start()
    click.echo(
        f"ingest worker {worker_id} on {url} ({'MQTT 5, shared' if worker.config.v5 else 'MQTT 3.1.1'})",
        err=True,
    )
    stop.wait()
    upkeep.stop()
    worker.stop()
    if monitor is not None:
        monitor.stop()


# ---------------------------------------------------------------- fieldops simulate


@click.command()
@click.option(
    "--devices",
    type=int,
    default=20,
    show_default=True,
    help="How many devices (sim-0001 …, or the ids in --credentials).",
)
@click.option(
    "--rate", type=float, default=1.0, show_default=True, help="Telemetry messages per second per device."
)
@click.option(
    "--broker",
    "broker_url",
    help="mqtt://[user:pass@]host:port (default: FIELDOPS_MQTT_URL's host, or the embedded broker).",
)
@click.option(
    "--credentials",
    type=click.Path(exists=True, path_type=Path),
    help="JSON device → password (from `fieldops iot provision`).",
)
@click.option("--duration", type=float, default=60.0, show_default=True, help="Seconds to run.")
@click.option("--duplicates", type=float, default=0.0, help="Probability that a message is sent twice.")
@click.option(
    "--malformed", type=float, default=0.0, help="Probability that a message is a hostile body instead."
)
@click.option("--msgpack", type=float, default=0.0, help="Share of MessagePack bodies.")
@click.option("--degrade", type=int, default=0, help="Devices that degrade slowly to failure over the run.")
@click.option("--faults", type=int, default=0, help="Devices that report a sudden fault code.")
@click.option("--offline", type=int, default=0, help="Devices that drop off the network halfway (Last Will).")
@click.option("--bursts", is_flag=True, help="Every 10 s, one second at five times the rate.")
@click.option(
    "--gateway",
    type=int,
    default=0,
    help="Multiplex the devices over this many connections (open brokers only).",
)
@click.option("--seed", type=int, default=7)
@click.pass_context
def simulate(
    ctx: click.Context,
    devices: int,
    rate: float,
    broker_url: str | None,
    credentials: Path | None,
    duration: float,
    duplicates: float,
    malformed: float,
    msgpack: float,
    degrade: int,
    faults: int,
    offline: int,
    bursts: bool,
    gateway: int,
    seed: int,
) -> None:
    """Publish simulated device telemetry over real MQTT; progress on stderr."""
    from iot.mqtt import BrokerUrl
    from iot.simulator import SimConfig, Simulator

    settings: Settings = ctx.obj
    creds: dict[str, str] = json.loads(credentials.read_text()) if credentials else {}
    if broker_url:
        url = BrokerUrl.parse(broker_url)
    elif settings.mqtt_url:
        base = BrokerUrl.parse(settings.mqtt_url)
        url = base.with_credentials(None, None)
    else:
        url = BrokerUrl("127.0.0.1", settings.embedded_mqtt_port, None, None, False)
    ids = sorted(creds)[:devices] if creds else [f"sim-{i + 1:04d}" for i in range(devices)]
    config = SimConfig(
        devices=ids,
        rate=rate,
        duration=duration,
        duplicates=duplicates,
        malformed=malformed,
        msgpack=msgpack,
        degrade=degrade,
        faults=faults,
        offline=offline,
        bursts=bursts,
        gateway=gateway,
        seed=seed,
    )
    sim = Simulator(url, config, credentials=creds, progress=lambda line: click.echo(line, err=True))
    signal.signal(signal.SIGINT, lambda *_: sim.stop())
    sim.connect()
    if sim.report.refused:
        click.echo(f"refused by the broker: {', '.join(sim.report.refused[:10])}", err=True)
    report = sim.run()
    sim.close()
    summary: dict[str, Any] = {
        "sent": report.sent,
        "acked": report.acked,
        "duplicates": report.duplicates,
        "malformed": report.malformed,
        "degraded": report.degraded,
        "offline": report.offline,
        "faults": sorted(report.faults),
        "elapsed_s": round(report.elapsed, 2),
    }
    click.echo(json.dumps(summary), err=True)


COMMANDS: list[click.Command] = [iot, ingest, simulate]
