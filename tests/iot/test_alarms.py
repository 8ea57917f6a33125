"""Fault codes, silence and alarms: deduplicated, one work order per (asset, fault), events in the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.domain.events import DomainEvent
from core.services.context import Actor, ServiceContext
from core.store.models import WorkOrder
from fieldops.wiring import System
from iot import alarms, store
from iot.contract import Severity
from iot.detection_adapter import Detector
from iot.models import Alarm
from iot.monitor import Monitor, MonitorConfig
from tests.iot.helpers import register
from tests.world import World


class NoDetectors:
    def create(self, config: dict[str, Any], metric: str) -> Detector | None:
        return None

    def restore(self, config: dict[str, Any], metric: str, snapshot: bytes) -> Detector | None:
        return None


def _event_batch(world: World, code: str, ts: datetime, seq: int) -> store.Batch:
    batch = store.Batch(received=1)
    batch.events.append(
        {
            "device_id": "dev-1",
            "asset_id": world.ids["asset"],
            "ts": ts,
            "seq": seq,
            "code": code,
            "severity": "critical",
            "detail": "compressor overcurrent",
            "received_at": ts,
        }
    )
    return batch


def test_fault_codes_raise_one_alarm_and_one_corrective_work_order(system: System, world: World) -> None:
    register(system, "dev-1", world.ids["asset"])
    seen: list[DomainEvent] = []
    system.runtime.bus.subscribe("alarm.*", seen.append)
    monitor = Monitor(
        system.runtime.sessions, system.runtime.clock, MonitorConfig("m1"), factory=NoDetectors()
    )
    monitor.claim()
    now = datetime.now(UTC)
    with system.runtime.sessions() as s:
        store.register_worker(s, "w", "h", 1, now)
    for i in range(3):  # the same fault three times, plus a redelivery of the first
        with system.runtime.sessions() as s:
            store.write_batch(s, _event_batch(world, "E42", now + timedelta(seconds=i), i), "w", now)
            store.write_batch(s, _event_batch(world, "E42", now, 0), "w", now)
            s.commit()
        monitor.step()
    with system.runtime.sessions() as s:
        open_alarms = s.scalars(sa.select(Alarm)).all()
        assert [(a.alarm_type, a.count, a.state) for a in open_alarms] == [("fault:E42", 3, "active")]
        wos = s.scalars(sa.select(WorkOrder).where(WorkOrder.source == "telemetry")).all()
        assert len(wos) == 1
        wo = wos[0]
        assert wo.kind == "corrective" and wo.priority == 1 and wo.asset_id == world.ids["asset"]
        assert open_alarms[0].work_order_id == wo.id
    assert [e.type for e in seen] == ["alarm.raised"]

    # Cleared, then raised again: a new alarm, but the open work order still covers the fault.
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, system.runtime.clock, Actor.system("dispatcher"))
        alarms.clear(ctx, open_alarms[0].id, "reset on site", None)
    with system.runtime.sessions() as s:
        store.write_batch(s, _event_batch(world, "E42", now + timedelta(seconds=10), 10), "w", now)
        s.commit()
    monitor.step()
    with system.runtime.sessions() as s:
        rows = s.scalars(sa.select(Alarm).order_by(Alarm.id)).all()
        assert [a.state for a in rows] == ["cleared", "active"]
        assert rows[1].work_order_id == wo.id
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(WorkOrder).where(WorkOrder.source == "telemetry"))
            == 1
        )
    assert [e.type for e in seen] == ["alarm.raised", "alarm.cleared", "alarm.raised"]


def test_priority_follows_severity_and_tier() -> None:
    assert alarms.priority_for(Severity.CRITICAL, None).value == "P1"
    assert alarms.priority_for(Severity.MAJOR, None).value == "P2"
    assert alarms.priority_for(Severity.MAJOR, "gold").value == "P1"
    assert alarms.priority_for(Severity.WARNING, "standard").value == "P3"
    assert alarms.priority_for(Severity.INFO, "gold").value == "P3"
