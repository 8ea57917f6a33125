"""Telemetry to a predictive work order, end to end over a real broker, with the simulator's fleet.

The pipeline (simulator → broker → ingest → detection stage → alarm → work order) is tested here with a
plain test detector (a least-squares trend over a window), so that it does not depend on the detection
package's tuning; `test_predictive_detectors.py` runs the same scenario with the real detectors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from core.services import customers
from core.services.context import Actor, ServiceContext
from core.store.models import WorkOrder
from fieldops.wiring import System
from iot.contract import Severity
from iot.detection_adapter import DetectionFactory, Finding
from iot.models import Alarm, DetectorState, IotProfile
from iot.monitor import Monitor, MonitorConfig
from iot.mqtt import BrokerUrl
from iot.registry import ProfileInput, put_profile
from iot.simulator import SimConfig, Simulator
from tests.iot.conftest import WorkerFactory
from tests.iot.helpers import register
from tests.world import World


class TrendDetector:
    """Raises once the fitted trend reaches `limit` within `lead_s`; clears below `limit * 0.5` slope-free."""

    def __init__(
        self, limit: float, lead_s: float, window: int = 40, points: list[list[float]] | None = None
    ) -> None:
        self.limit, self.lead_s, self.window = limit, lead_s, window
        self.points: list[list[float]] = points or []
        self.raised = False

    def update(self, ts: datetime, value: float) -> Sequence[Finding]:
        self.points = [*self.points[-(self.window - 1) :], [ts.timestamp(), value]]
        if len(self.points) < self.window // 2 or self.raised:
            return []
        n = len(self.points)
        mx = sum(p[0] for p in self.points) / n
        my = sum(p[1] for p in self.points) / n
        sxx = sum((p[0] - mx) ** 2 for p in self.points)
        slope = sum((p[0] - mx) * (p[1] - my) for p in self.points) / sxx if sxx else 0.0
        if slope <= 0:
            return []
        eta = (self.limit - value) / slope
        if eta <= self.lead_s:
            self.raised = True
            return [
                Finding(
                    "trend:vibration",
                    Severity.MAJOR,
                    f"vibration rising {slope:.3f}/s, limit {self.limit} in {eta:.0f} s",
                    {"limit": self.limit, "predicted_time_to_limit_s": eta, "slope_per_s": slope},
                )
            ]
        return []

    def snapshot(self) -> bytes:
        return json.dumps({"points": self.points, "raised": self.raised}).encode()


class TrendFactory:
    def create(self, config: dict[str, Any], metric: str) -> TrendDetector | None:
        spec = config.get(metric)
        return TrendDetector(spec["limit"], spec["lead_s"]) if spec else None

    def restore(self, config: dict[str, Any], metric: str, snapshot: bytes) -> TrendDetector | None:
        detector = self.create(config, metric)
        if detector is not None:
            state = json.loads(snapshot)
            detector.points, detector.raised = state["points"], state["raised"]
        return detector


def fleet(system: System, world: World, n: int) -> list[str]:
    """n devices, each on its own asset of the world's asset model."""
    rt = system.runtime
    ids: list[str] = []
    with rt.sessions() as s:
        ctx = ServiceContext(s, rt.clock, Actor.system("test"))
        assets = [world.ids["asset"]] + [
            customers.create_asset(
                ctx,
                customers.AssetInput(
                    site_id=world.ids["site"], asset_model_id=world.ids["model"], serial=f"SN-{i}"
                ),
            ).id
            for i in range(1, n)
        ]
    creds: dict[str, str] = {}
    for i, asset_id in enumerate(assets):
        device_id = f"chiller-{i:02d}"
        creds[device_id] = register(system, device_id, asset_id).password
        ids.append(device_id)
    world.ids["creds"] = creds  # type: ignore[assignment]
    return ids


def set_profile(system: System, world: World, detection: dict[str, Any], *, validate: bool = True) -> None:
    rt = system.runtime
    faults = {
        "trend:*": msgspec_rule("Bearing wear: replace before failure", "hvac"),
        "fault:FAIL": msgspec_rule("Machine stopped", "hvac", work_order=False),
    }
    with rt.sessions() as s:
        if validate:
            put_profile(
                ServiceContext(s, rt.clock, Actor.system("test")),
                world.ids["model"],
                ProfileInput(detection=detection, faults=faults),
            )
            return
        # The test detector's configuration is not a detection-package profile: store it as it is.
        s.add(
            IotProfile(
                asset_model_id=world.ids["model"],
                detection=detection,
                faults=msgspec.to_builtins(faults),
                heartbeat_timeout_s=300,
                updated_at=rt.clock.now(),
            )
        )
        s.commit()


def msgspec_rule(title: str, skill: str, *, work_order: bool = True) -> Any:
    from iot.registry import FaultRule, SkillNeed

    return FaultRule(title=title, skills=[SkillNeed(skill, 2)], work_order=work_order, minutes=90)


def run_degradation(
    system: System,
    world: World,
    embedded_url: BrokerUrl,
    ingest: WorkerFactory,
    factory: Any,
    detection: dict[str, Any],
) -> tuple[Simulator, float]:
    devices = fleet(system, world, 6)
    set_profile(system, world, detection, validate=isinstance(factory, DetectionFactory))
    rt = system.runtime
    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig("pred", poll_s=0.1), factory=factory)
    monitor.claim()
    monitor.start()
    worker = ingest(embedded_url, "pred")
    worker._on_stored = monitor.wake
    creds: dict[str, str] = world.ids["creds"]  # type: ignore[assignment]
    sim = Simulator(
        embedded_url,
        SimConfig(devices=devices, rate=20, duration=8.0, degrade=1, seed=3, fail_after=7.0),
        credentials=creds,
    )
    sim.connect()
    assert not sim.report.refused
    sim.run()
    sim.close()
    failure = next(iter(sim.report.failed.values()))
    time.sleep(1.0)
    monitor.stop()
    return sim, failure


def test_a_degrading_machine_gets_one_predictive_work_order_before_it_fails(
    system: System, world: World, embedded_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    sim, failure = run_degradation(
        system, world, embedded_url, ingest, TrendFactory(), {"vibration": {"limit": 8.0, "lead_s": 6.0}}
    )
    degraded = sim.report.degraded[0]
    with system.runtime.sessions() as s:
        wos = s.scalars(sa.select(WorkOrder).where(WorkOrder.source == "telemetry")).all()
        alarms = s.scalars(sa.select(Alarm)).all()
        states = s.scalar(sa.select(sa.func.count()).select_from(DetectorState))
    assert [(w.kind, w.asset_id) for w in wos] == [("predictive", alarms[0].asset_id)]
    wo = wos[0]
    assert wo.created_at.timestamp() < failure, "the work order must come before the failure"
    assert [s.skill_code for s in wo.skills] == ["hvac"] and wo.estimated_minutes == 90
    trend = [a for a in alarms if a.alarm_type == "trend:vibration"]
    assert len(trend) == 1 and trend[0].device_id == degraded
    assert trend[0].evidence["series"] and trend[0].evidence["predicted_time_to_limit_s"] <= 6.0
    # The failure itself is recorded as an alarm, but the open predictive work order covers it.
    assert {a.alarm_type for a in alarms} <= {"trend:vibration", "fault:FAIL"}
    assert states == 6  # one detector per (asset, vibration), saved


def test_detector_state_survives_a_worker_restart(system: System, world: World) -> None:
    """The monitor saves snapshots with its read position; a new one restores them and carries on."""
    from iot import store

    devices = fleet(system, world, 1)
    set_profile(system, world, {"vibration": {"limit": 100.0, "lead_s": 1.0}}, validate=False)
    rt = system.runtime
    now = datetime.now(UTC)
    with rt.sessions() as s:
        store.register_worker(s, "w", "h", 1, now)

    def write(values: range) -> None:
        with rt.sessions() as s:
            batch = store.Batch(received=len(values))
            for i in values:
                ts = datetime.fromtimestamp(now.timestamp() - 100 + i, UTC)
                batch.add_telemetry(devices[0], world.ids["asset"], ts, i, {"vibration": 2.0}, now)
            store.write_batch(s, batch, "w", now)
            s.commit()

    first = Monitor(rt.sessions, rt.clock, MonitorConfig("m1"), factory=TrendFactory())
    first.claim()
    write(range(10))
    first.step()
    first.stop()  # hands its buckets back, saving state and position
    second = Monitor(rt.sessions, rt.clock, MonitorConfig("m2"), factory=TrendFactory())
    second.claim()
    write(range(10, 15))
    second.step()
    detector = second.tracked[(world.ids["asset"], "vibration")].detector
    assert isinstance(detector, TrendDetector)
    assert len(detector.points) == 15  # 10 restored + 5 new, none twice
