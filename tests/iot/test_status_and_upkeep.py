"""Device status from retained status + Last Will, the offline alarm, and telemetry partitions/retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from iot import store
from iot.detection_adapter import DetectionFactory
from iot.models import Alarm, Device, TelemetryRow
from iot.monitor import Monitor, MonitorConfig
from iot.mqtt import BrokerUrl
from iot.registry import ProfileInput, put_profile
from tests.iot.conftest import WorkerFactory
from tests.iot.helpers import Publisher, count, register, telemetry, wait_until
from tests.world import World


def _device(system: System, device_id: str) -> Device:
    with system.runtime.sessions() as s:
        return s.get_one(Device, device_id)


def test_last_will_marks_a_device_offline_and_the_alarm_follows_the_grace(
    system: System, world: World, embedded_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    rt = system.runtime
    with rt.sessions() as s:
        put_profile(
            ServiceContext(s, rt.clock, Actor.system("t")),
            world.ids["model"],
            ProfileInput(detection={"offline_grace": "PT1S"}),
        )
    creds = register(system, "dev-1", world.ids["asset"])
    ingest(embedded_url)
    device = Publisher(embedded_url.with_credentials("dev-1", creds.password), "dev-1", will=True)
    assert device.connect()
    device.publish("fieldops/v1/devices/dev-1/status", b"online", retain=True)
    device.publish("fieldops/v1/devices/dev-1/telemetry", telemetry(1))
    wait_until(lambda: _device(system, "dev-1").status == "online")
    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig("off"), factory=DetectionFactory())
    monitor.claim()
    monitor.check_offline()
    assert count(system, Alarm) == 0

    # The connection drops without a DISCONNECT: the broker publishes the Will.
    sock = device.client.socket()
    device.client.loop_stop()
    assert sock is not None
    sock.close()
    wait_until(lambda: _device(system, "dev-1").status == "offline")
    monitor.check_offline()
    assert count(system, Alarm) == 0  # still inside the grace period

    def raised() -> bool:
        monitor.check_offline()
        return count(system, Alarm, Alarm.state == "active") == 1

    wait_until(raised, timeout=5)
    monitor.check_offline()
    with rt.sessions() as s:
        alarm = s.scalars(sa.select(Alarm)).one()
    assert alarm.alarm_type == "offline" and alarm.count == 1 and alarm.work_order_id is None

    back = Publisher(embedded_url.with_credentials("dev-1", creds.password), "dev-1", will=True)
    assert back.connect()
    back.publish("fieldops/v1/devices/dev-1/status", b"online", retain=True)
    back.publish("fieldops/v1/devices/dev-1/telemetry", telemetry(2))
    wait_until(lambda: _device(system, "dev-1").status == "online")
    monitor.check_offline()
    with rt.sessions() as s:
        assert s.scalars(sa.select(Alarm.state)).one() == "cleared"
    back.close()


def test_partitions_ahead_and_retention(system: System, world: World, backend: str) -> None:
    now = datetime.now(UTC)
    with system.runtime.sessions() as s:
        store.register_worker(s, "w", "h", 1, now)
        batch = store.Batch(received=3)
        for days in (0, 40, 100):
            batch.add_telemetry("d", world.ids["asset"], now - timedelta(days=days), 1, {"t": 1.0}, now)
        if backend == "postgresql":
            store.maintain_partitions(s, now - timedelta(days=100), months_ahead=4)
        store.write_batch(s, batch, "w", now)
        s.commit()
    with system.runtime.sessions() as s:
        done = store.maintain_partitions(s, now, months_ahead=2, retention=timedelta(days=70))
    assert count(system, TelemetryRow) == 2  # the 100-day-old reading is gone
    if backend == "postgresql":
        assert done.dropped, "the partition of 100 days ago is past the retention"
        with system.runtime.sessions() as s:
            names = set(
                s.scalars(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'telemetry_partitions'")
                )
            )
        ahead = now.replace(day=1) + timedelta(days=62)
        assert f"telemetry_{ahead.year}_{ahead.month:02d}" in names
    else:
        assert done.deleted_rows == 1


@pytest.mark.parametrize("seq", [None, 5])
def test_idempotent_on_device_ts_seq(system: System, world: World, seq: int | None) -> None:
    now = datetime.now(UTC)
    with system.runtime.sessions() as s:
        store.register_worker(s, "w", "h", 1, now)
        for _ in range(3):
            batch = store.Batch(received=2)
            batch.add_telemetry("d", world.ids["asset"], now, seq, {"t": 1.0}, now)
            batch.add_telemetry("d", world.ids["asset"], now, seq, {"t": 1.0}, now)
            written = store.write_batch(s, batch, "w", now)
        s.commit()
    assert count(system, TelemetryRow) == 1 and written.duplicate == 2


def test_a_silent_device_goes_offline_after_its_heartbeat_timeout(system: System, world: World) -> None:
    """No Will ever comes from a device that is connected but says nothing (hung firmware): silence past
    the model's heartbeat timeout counts as offline, and the alarm follows after the grace period."""
    rt = system.runtime
    with rt.sessions() as s:
        put_profile(
            ServiceContext(s, rt.clock, Actor.system("t")),
            world.ids["model"],
            ProfileInput(detection={"offline_grace": "PT60S"}, heartbeat_timeout_s=300),
        )
    register(system, "quiet-1", world.ids["asset"])
    now = rt.clock.now()

    def seen(ago: timedelta) -> None:
        with rt.sessions() as s:
            device = s.get_one(Device, "quiet-1")
            device.status, device.status_at, device.last_seen_at = "online", now - ago, now - ago
            s.commit()

    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig("hb"), factory=DetectionFactory())
    monitor.claim()
    seen(timedelta(seconds=200))  # quiet, but within the timeout
    monitor.check_offline()
    seen(timedelta(seconds=330))  # past the timeout (300 s) but inside the grace (60 s)
    monitor.check_offline()
    assert count(system, Alarm) == 0
    seen(timedelta(seconds=400))  # past both
    monitor.check_offline()
    monitor.check_offline()
    with rt.sessions() as s:
        alarm = s.scalars(sa.select(Alarm)).one()
    assert (alarm.alarm_type, alarm.state, alarm.count) == ("offline", "active", 1)
    seen(timedelta(seconds=1))  # it speaks again
    monitor.check_offline()
    assert count(system, Alarm, Alarm.state == "cleared") == 1
