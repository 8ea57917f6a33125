"""The brokers themselves: restarts lose nothing sent with QoS 1, and a device speaks only for itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldops.wiring import System
from iot import contract
from iot.models import TelemetryRow
from iot.mqtt import BrokerUrl
from iot.registry import INGEST_USER, broker_files, write_broker_files
from tests.iot.conftest import WorkerFactory
from tests.iot.helpers import INGEST_PASSWORD, Publisher, count, register, telemetry, unique, wait_until
from tests.iot.own_mosquitto import OwnMosquitto
from tests.services import MQTT_URL, tcp_reachable, unavailable
from tests.world import World

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[OwnMosquitto]:
    # The same requirement as the shared broker: CI has Mosquitto installed and running.
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    broker = OwnMosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def test_a_broker_restart_loses_nothing_sent_with_qos_1(
    system: System, world: World, own_mosquitto: OwnMosquitto, ingest: WorkerFactory
) -> None:
    url = own_mosquitto.url
    device_id = unique("dev")
    register(system, device_id, world.ids["asset"])
    worker_id, group = unique("w"), unique("grp")
    worker = ingest(url, worker_id, v5=True, share_group=group)
    worker.stop()  # its session (and subscription) stays with the broker, and is persisted

    device = Publisher(url, device_id)
    assert device.connect()
    for i in range(500):
        device.publish(contract.telemetry_topic(device_id), telemetry(i), wait=False)
    device.publish(contract.telemetry_topic(device_id), telemetry(500), wait=True)
    device.close()
    own_mosquitto.restart()  # 501 messages queued for the absent worker survive it

    worker = ingest(url, worker_id, v5=True, share_group=group)
    wait_until(lambda: count(system) == 501, timeout=30)

    # And with the worker connected through a restart: it reconnects and the flow resumes.
    own_mosquitto.restart()
    wait_until(worker.wait_connected, timeout=30)
    device = Publisher(url, device_id)
    assert device.connect()
    for i in range(501, 1001):
        device.publish(contract.telemetry_topic(device_id), telemetry(i), wait=False)
    device.publish(contract.telemetry_topic(device_id), telemetry(1000), wait=True)
    device.close()
    wait_until(lambda: count(system) == 1001, timeout=30)


class Listener:
    """A subscriber recording what it is sent (to see what a device could read)."""

    def __init__(self, publisher: Publisher) -> None:
        self.got: list[str] = []
        self.granted: list[Any] = []
        self.subscribed = threading.Event()
        publisher.client.on_message = lambda _c, _u, m: self.got.append(m.topic)

        def on_subscribe(_c: Any, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
            self.granted = list(codes)
            self.subscribed.set()

        publisher.client.on_subscribe = on_subscribe


def test_mosquitto_acl_from_the_registry_lets_a_device_publish_only_as_itself(
    system: System, world: World, tmp_path: Path, ingest: WorkerFactory
) -> None:
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    alice, bob = register(system, "alice", world.ids["asset"]), register(system, "bob", world.ids["asset"])
    passwd, acl = tmp_path / "gen" / "passwd", tmp_path / "gen" / "acl"
    with system.runtime.sessions() as s:
        write_broker_files(broker_files(s, {INGEST_USER: INGEST_PASSWORD}), passwd, acl)
    broker = OwnMosquitto(tmp_path / "secured", passwd=passwd, acl=acl)
    broker.start()
    try:
        url = broker.url
        worker = ingest(url.with_credentials(INGEST_USER, INGEST_PASSWORD), unique("w"), v5=True)
        wrong = Publisher(url.with_credentials("alice", "not-her-password"), "alice")
        assert not wrong.connect(3)
        anonymous = Publisher(url, unique("anon"))
        assert not anonymous.connect(3)

        a = Publisher(url.with_credentials("alice", alice.password), "alice")
        assert a.connect()
        spy = Listener(a)
        a.client.subscribe("#", qos=1)
        assert spy.subscribed.wait(5)
        a.publish(contract.telemetry_topic("alice"), telemetry(1))
        a.publish(contract.telemetry_topic("bob"), telemetry(2))  # refused by the ACL
        a.publish(contract.events_topic("bob"), b'{"ts": 1, "code": "E1"}')
        b = Publisher(url.with_credentials("bob", bob.password), "bob")
        assert b.connect()
        b.publish(contract.telemetry_topic("bob"), telemetry(3))
        wait_until(lambda: count(system) == 2)
        time.sleep(0.5)
        with system.runtime.sessions() as s:
            rows = s.execute(
                sa.select(TelemetryRow.device_id, TelemetryRow.seq).order_by(TelemetryRow.seq)
            ).all()
        assert [tuple(r) for r in rows] == [("alice", 1), ("bob", 3)]
        assert spy.got == []  # alice read nothing, not even her own messages
        assert worker.counters.dead_lettered == 0
        for p in (a, b, wrong, anonymous):
            p.close()
    finally:
        broker.stop()


def test_the_embedded_broker_enforces_the_same_rule(
    system: System, world: World, embedded_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    alice, bob = register(system, "alice", world.ids["asset"]), register(system, "bob", world.ids["asset"])
    ingest(embedded_url)
    assert not Publisher(embedded_url.with_credentials("alice", "wrong"), "alice").connect(3)
    assert not Publisher(embedded_url, "alice").connect(3)  # anonymous
    assert not Publisher(embedded_url.with_credentials("alice", alice.password), "bob").connect(3)
    assert not Publisher(embedded_url.with_credentials("ghost", "x"), "ghost").connect(3)

    a = Publisher(embedded_url.with_credentials("alice", alice.password), "alice", will=True)
    assert a.connect()
    spy = Listener(a)
    a.client.subscribe(contract.DEVICE_TOPICS + "/#", qos=1)
    assert spy.subscribed.wait(5)
    assert spy.granted and all(getattr(c, "value", c) == 0x80 for c in spy.granted)
    a.publish(contract.telemetry_topic("alice"), telemetry(1))
    a.publish(contract.telemetry_topic("bob"), telemetry(2))
    b = Publisher(embedded_url.with_credentials("bob", bob.password), "bob")
    assert b.connect()
    b.publish(contract.telemetry_topic("bob"), telemetry(3))
    wait_until(lambda: count(system) == 2)
    time.sleep(0.5)
    with system.runtime.sessions() as s:
        rows = s.execute(sa.select(TelemetryRow.device_id, TelemetryRow.seq).order_by(TelemetryRow.seq)).all()
    assert [tuple(r) for r in rows] == [("alice", 1), ("bob", 3)]
    assert spy.got == []
    a.close()
    b.close()
