"""From a device's fault code to the engineer's phone, every hop real: the issue's end-to-end promise.

A chiller publishes a critical fault code over MQTT to a Mosquitto of the test's own, with the ACL
and passwords fieldops generates (the device speaks with its own credentials, the server with its
service account, each engineer's app with theirs). The ingest worker stores it, the detection stage
raises the alarm and its P1 corrective work order (source telemetry, skills from the fault map), the
dispatch re-planner places it into the committed day, and the nudger tells the chosen engineer's app
on `fieldops/v1/engineers/{id}/assignments`. Nothing is called by hand in between.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from core.services.context import Actor, ServiceContext
from core.store.models import WorkOrder
from dispatch.planning.feature import DispatchFeature
from fieldops.wiring import System
from iot import contract
from iot.ingest import IngestConfig, IngestWorker
from iot.models import Alarm
from iot.monitor import Monitor, MonitorConfig
from iot.nudge import IotFeature
from iot.registry import (
    INGEST_USER,
    FaultRule,
    ProfileInput,
    SkillNeed,
    broker_files,
    engineer_password,
    engineer_username,
    put_profile,
)
from tests.conftest import T0
from tests.dispatch.test_api import new_order, optimise, placed
from tests.iot.helpers import INGEST_PASSWORD, Publisher, register, unique, wait_until
from tests.iot.own_mosquitto import OwnMosquitto
from tests.iot.test_nudge import App
from tests.services import MQTT_URL, tcp_reachable, unavailable
from tests.world import World

pytestmark = pytest.mark.mosquitto

FAULT = "E42"


@pytest.fixture
def mosquitto_dir(tmp_path: Path) -> Path:
    # The same requirement as the shared broker's tests: CI has Mosquitto installed and running.
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    return tmp_path / "mosquitto"


@pytest.fixture
def running(system: System) -> Iterator[list[Any]]:
    """Whatever a test starts goes here and is stopped afterwards, last started first."""
    stoppers: list[Any] = []
    yield stoppers
    for stop in reversed(stoppers):
        stop()


def _fault_map(system: System, world: World) -> None:
    """The chiller model's fault E42 becomes a corrective job for an hvac engineer (level 2, one hour)."""
    rt = system.runtime
    rule = FaultRule(title="Compressor overcurrent", skills=[SkillNeed("hvac", 2)], minutes=60)
    with rt.sessions() as s:
        put_profile(
            ServiceContext(s, rt.clock, Actor.system("test")),
            world.ids["model"],
            ProfileInput(faults={f"fault:{FAULT}": rule}),
        )


def _broker(system: System, workdir: Path) -> OwnMosquitto:
    """Mosquitto with fieldops' own password file and ACL, as `fieldops iot acl` writes them."""
    feature = system.runtime.features["iot"]
    assert isinstance(feature, IotFeature)
    with system.runtime.sessions() as s:
        files = broker_files(s, {INGEST_USER: INGEST_PASSWORD}, engineer_secret=feature.engineer_secret)
    workdir.mkdir(parents=True)
    passwd, acl = workdir / "passwd", workdir / "acl"
    passwd.write_text(files.passwd)
    passwd.chmod(0o600)
    acl.write_text(files.acl)
    broker = OwnMosquitto(workdir, passwd=passwd, acl=acl)
    broker.start()
    return broker


def test_a_device_fault_reaches_the_chosen_engineers_app_within_seconds(
    system: System,
    client: TestClient,
    world: World,
    as_dispatcher: dict[str, str],
    zhao: int,
    mosquitto_dir: Path,
    running: list[Any],
) -> None:
    rt = system.runtime
    # A committed day: routine work for both hvac engineers.
    routine = [new_order(client, as_dispatcher, world.ids[site]) for site in ("site", "site", "site_b")]
    p = optimise(client, as_dispatcher, world)
    assert client.post(f"/dispatch/optimisations/{p['id']}/commit", headers=as_dispatcher).status_code == 200
    before = placed(p)
    assert set(before) == set(routine)

    # The chiller, its fault map, and the broker that knows them both.
    _fault_map(system, world)
    device_id = unique("chiller")
    device_password = register(system, device_id, world.ids["asset"]).password
    broker = _broker(system, mosquitto_dir)
    running.append(broker.stop)
    url = broker.url
    service = url.with_credentials(INGEST_USER, INGEST_PASSWORD)

    # The server side, as `fieldops serve` runs it against Mosquitto: ingest (MQTT 5, shared
    # subscription), the detection stage, the urgent re-planner and the nudger.
    monitor = Monitor(rt.sessions, rt.clock, MonitorConfig(unique("mon"), poll_s=0.1))
    monitor.claim()
    monitor.start()
    running.append(monitor.stop)
    group = unique("grp")
    worker = IngestWorker(
        rt.sessions, rt.clock, IngestConfig(broker=service, worker_id=unique("w"), share_group=group)
    )
    worker.start()
    running.append(worker.stop)
    assert worker.wait_connected(10), "the ingest worker did not connect"
    worker._on_stored = monitor.wake  # as the serve command wires them: detect as soon as stored
    dispatch = rt.features["dispatch"]
    assert isinstance(dispatch, DispatchFeature)
    running.append(dispatch.replanner.start())
    nudger = rt.features["iot"]
    assert isinstance(nudger, IotFeature)
    nudger.nudger.start(service)
    running.append(nudger.nudger.stop)

    # Each hvac engineer's app, signed in to the broker with their own account.
    secret = nudger.engineer_secret
    apps = {}
    for engineer in (world.ids["engineer"], zhao):
        me = url.with_credentials(engineer_username(engineer), engineer_password(secret, engineer))
        apps[engineer] = App(me, contract.assignments_topic(engineer), unique("app"))
        running.append(apps[engineer].close)
        assert apps[engineer].subscribed.wait(10)
        assert apps[engineer].granted == [1]

    # The fault, published by the device itself (QoS 1, its own credentials).
    device = Publisher(url.with_credentials(device_id, device_password), device_id)
    assert device.connect(), device.refused
    running.append(device.close)
    body = {"ts": int(T0.timestamp() * 1000), "code": FAULT, "severity": "critical", "detail": "overcurrent"}
    started = time.monotonic()
    device.publish(contract.events_topic(device_id), json.dumps(body).encode())

    def nudged() -> list[tuple[int, dict[str, Any]]]:
        return [(e, n) for e, app in apps.items() for n in app.got if n["work_order_ids"]]

    got = wait_until(
        lambda: [(e, n) for e, n in nudged() if set(n["work_order_ids"]) - set(routine)], timeout=20
    )
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"fault to nudge took {elapsed:.1f} s"

    # What the nudge is about: the work order the fault raised, placed on that engineer's plan.
    engineer, nudge = got[0]
    (urgent,) = set(nudge["work_order_ids"]) - set(routine)
    assert "visit.assigned" in nudge["reasons"]
    with rt.sessions() as s:
        wo = s.get_one(WorkOrder, urgent)
        assert (wo.source, wo.kind, wo.priority) == ("telemetry", "corrective", 1)
        assert wo.asset_id == world.ids["asset"]
        assert [sk.skill_code for sk in wo.skills] == ["hvac"]
        alarm = s.scalars(sa.select(Alarm).where(Alarm.work_order_id == urgent)).one()
        assert (alarm.alarm_type, alarm.device_id) == (f"fault:{FAULT}", device_id)
    visits = client.get(f"/work-orders/{urgent}/visits", headers=as_dispatcher).json()
    assert [(v["engineer_id"], v["status"]) for v in visits] == [(engineer, "assigned")]
    assert visits[0]["planned_start"] is not None
    # Only the engineer who got the job was told about it.
    others = [n for e, n in nudged() if e != engineer and urgent in n["work_order_ids"]]
    assert others == []
    # The re-plan moved as little as it could: the routine work stays where it was committed.
    for wo_id in routine:
        now = client.get(f"/work-orders/{wo_id}/visits", headers=as_dispatcher).json()
        assert [v["engineer_id"] for v in now if v["status"] == "assigned"] == [before[wo_id]]
