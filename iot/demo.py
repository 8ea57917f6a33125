"""The demo's devices: registered on the demo assets, simulated in-process over real MQTT.

`fieldops serve` with `FIELDOPS_DEMO_DEVICES=N` (or `--demo`) provisions N devices `demo-0001…` on the
first N assets, gives their asset models the simulator's detection profile when they have none, and runs
`iot.simulator` against the broker: normal noise on most, a slow degradation on a few (a predictive work
order appears after about two and a half minutes, before the simulated failure at three), one sudden
fault code (a corrective work order, between one and five minutes in). Device secrets are only stored
hashed, so the simulator's copies live in the data directory
(`demo-devices.json`, 0600); a device whose secret is missing there gets a new one, which keeps restarts
idempotent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.services.context import Actor, ServiceContext
from core.store.models import Asset
from iot.detection.profiles import SIMULATOR
from iot.models import Device, IotProfile
from iot.mqtt import BrokerUrl
from iot.registry import (
    DeviceInput,
    FaultRule,
    ProfileInput,
    put_profile,
    register_device,
    rotate_credentials,
)
from iot.simulator import SimConfig, Simulator

log = structlog.get_logger(__name__)

PREFIX = "demo-"
# Seconds from the simulator's start until a degrading device reaches its failure level.
FAIL_AFTER_S = 180.0
_FAULTS = {
    "trend:*": FaultRule(title="Predicted failure: inspect and replace the worn part", minutes=120),
    "threshold:*": FaultRule(title="Reading beyond its limit", minutes=90),
    "anomaly:*": FaultRule(title="Unusual readings: inspect", minutes=60),
    "fault:*": FaultRule(title="Device reported a fault", minutes=120),
    # The simulator's degrading machines report FAIL when they reach the failure level: by then the
    # predictive work order is open, so the alarm is recorded without a second work order.
    "fault:FAIL": FaultRule(title="Machine stopped", work_order=False),
}


def provision(
    sessions: sessionmaker[Session], clock: Clock, count: int, secrets_file: Path
) -> dict[str, str]:
    """Device id → password for `count` demo devices (registering or re-keying only what is missing)."""
    known: dict[str, str] = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    creds: dict[str, str] = {}
    with sessions() as session:
        ctx = ServiceContext(session, clock, Actor.system("demo"))
        assets = list(
            session.execute(sa.select(Asset.id, Asset.asset_model_id).order_by(Asset.id).limit(count))
        )
        if not assets:
            log.warning("demo_devices_skipped", reason="no assets (load the demo data)")
            return {}
        for model_id in sorted({m for _, m in assets}):
            if session.get(IotProfile, model_id) is None:
                put_profile(ctx, model_id, ProfileInput(detection=SIMULATOR, faults=_FAULTS))
        for i in range(count):
            device_id = f"{PREFIX}{i + 1:04d}"
            device = session.get(Device, device_id)
            if device is None:
                asset_id = assets[i % len(assets)][0]
                creds[device_id] = register_device(ctx, DeviceInput(id=device_id, asset_id=asset_id)).password
            elif device_id in known:
                creds[device_id] = known[device_id]
            else:
                creds[device_id] = rotate_credentials(ctx, device_id).password
    secrets_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = secrets_file.with_name(f".{secrets_file.name}.tmp")
    tmp.write_text(json.dumps(creds, indent=1))
    tmp.chmod(0o600)
    tmp.replace(secrets_file)
    return creds


@dataclass
class DemoFleet:
    simulator: Simulator
    thread: threading.Thread

    def stop(self) -> None:
        self.simulator.stop()
        self.thread.join(5)
        self.simulator.close(drain_s=2)


def run_fleet(broker: BrokerUrl, creds: dict[str, str], *, rate: float = 1.0) -> DemoFleet:
    """Simulate the devices until stopped: one message per second each, a sixth of them degrading."""
    devices = sorted(creds)
    config = SimConfig(
        devices=devices,
        rate=rate,
        duration=10 * 365 * 86400.0,  # until `fieldops serve` stops
        degrade=max(1, len(devices) // 6),
        faults=1 if len(devices) > 3 else 0,
        fail_after=FAIL_AFTER_S,
        # The sudden fault comes a minute or more in, after the demo's first look around.
        fault_window=2 * FAIL_AFTER_S,
    )
    simulator = Simulator(broker.with_credentials(None, None), config, credentials=creds)

    def run() -> None:
        try:
            simulator.connect()
            if simulator.report.refused:
                log.warning("demo_devices_refused", devices=simulator.report.refused[:10])
            simulator.run()
        except Exception:
            log.exception("demo_simulator_failed")

    thread = threading.Thread(target=run, name="iot-demo-devices", daemon=True)
    thread.start()
    log.info("demo_devices_started", devices=len(devices), degrading=simulator.report.degraded)
    return DemoFleet(simulator, thread)
