"""The engineers' nudge: a plan change reaches the app's assignments topic; only the engineer may read it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from litestar.testing import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from core.domain.events import DomainEvent
from fieldops.wiring import System
from iot import contract
from iot.broker import EmbeddedBroker
from iot.mqtt import BrokerUrl
from iot.nudge import IotFeature, Nudger
from iot.registry import INGEST_USER, broker_files, engineer_password, engineer_username
from tests.iot.helpers import INGEST_PASSWORD, free_port, unique, wait_until
from tests.iot.own_mosquitto import OwnMosquitto
from tests.services import MQTT_URL, tcp_reachable, unavailable
from tests.world import World, login


class App:
    """An engineer's app listening on an assignments topic; keeps only live (not retained) nudges."""

    def __init__(self, broker: BrokerUrl, topic: str, client_id: str) -> None:
        self.got: list[dict[str, Any]] = []
        self.granted: list[int] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.connected = threading.Event()
        self.topic = topic
        self.client.on_connect = self._on_connect
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)
            self.connected.set()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        if not message.retain:  # a retained one is an earlier run's latest nudge
            self.got.append(json.loads(message.payload))

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        self.granted = [getattr(c, "value", c) for c in codes]
        self.subscribed.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _feature(system: System) -> IotFeature:
    feature = system.runtime.features["iot"]
    assert isinstance(feature, IotFeature)
    return feature


@pytest.fixture
def nudger(system: System) -> Iterator[Nudger]:
    yield _feature(system).nudger
    _feature(system).nudger.stop()


def _new_order(client: TestClient, headers: dict[str, str], world: World) -> int:
    body = {"title": "冷水机组振动偏高", "site_id": world.ids["site"]}
    r = client.post("/work-orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.mosquitto
def test_assigning_a_visit_nudges_the_engineer_over_mosquitto(
    system: System, client: TestClient, world: World, as_dispatcher: dict[str, str], nudger: Nudger
) -> None:
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    mosquitto = BrokerUrl.parse(MQTT_URL)
    nudger.start(mosquitto)
    engineer = world.ids["engineer"]
    app = App(mosquitto, contract.assignments_topic(engineer), unique("app"))
    assert app.subscribed.wait(10)
    wo = _new_order(client, as_dispatcher, world)
    r = client.post(f"/work-orders/{wo}/visits", headers=as_dispatcher, json={"engineer_id": engineer})
    assert r.status_code == 201, r.text
    # (Any other run on the shared broker nudges other work orders; look for ours.)
    mine = wait_until(
        lambda: [n for n in app.got if wo in n["work_order_ids"] and "visit.assigned" in n["reasons"]],
        timeout=10,
    )
    assert mine[0]["v"] == 1 and mine[0]["at"]
    # A change to the order reaches the engineer who has it on their plan.
    r = client.patch(f"/work-orders/{wo}", json={"priority": "P1"}, headers=as_dispatcher)
    assert r.status_code == 200, r.text
    wait_until(lambda: any("work_order.updated" in n["reasons"] for n in app.got), timeout=10)
    # The dispatch side's committed plan nudges each engineer on it.
    system.runtime.bus.publish(
        DomainEvent(
            type="plan.committed",
            subject_type="plan",
            subject_id=1,
            occurred_at=system.runtime.clock.now(),
            data={"engineer_ids": [engineer]},
            actor="test",
        )
    )
    wait_until(lambda: any("plan.committed" in n["reasons"] for n in app.got), timeout=10)
    app.close()
    # Leave no retained nudge behind on the shared broker (an empty retained message deletes it).
    nudger.stop()
    cleaner = App(mosquitto, "unused/topic", unique("clean"))
    assert cleaner.connected.wait(10)
    cleaner.client.publish(contract.assignments_topic(engineer), b"", qos=1, retain=True).wait_for_publish(5)
    cleaner.close()


def test_an_absent_broker_never_breaks_the_request(
    system: System, client: TestClient, world: World, as_dispatcher: dict[str, str], nudger: Nudger
) -> None:
    nudger.start(BrokerUrl("127.0.0.1", free_port(), None, None, False))  # nobody listens there
    wo = _new_order(client, as_dispatcher, world)
    started = time.monotonic()
    r = client.post(
        f"/work-orders/{wo}/visits", headers=as_dispatcher, json={"engineer_id": world.ids["engineer"]}
    )
    assert r.status_code == 201, r.text
    assert time.monotonic() - started < 5
    wait_until(lambda: nudger.sent + nudger.dropped >= 1, timeout=10)


def test_engineers_read_only_their_own_assignments_on_the_embedded_broker(
    system: System, client: TestClient, world: World, as_dispatcher: dict[str, str], nudger: Nudger
) -> None:
    secret = _feature(system).engineer_secret
    broker = EmbeddedBroker(
        system.runtime.sessions,
        port=free_port(),
        service_accounts={INGEST_USER: INGEST_PASSWORD},
        engineer_secret=secret,
    )
    broker.start()
    try:
        url = BrokerUrl("127.0.0.1", broker.port, None, None, False)
        nudger.start(url.with_credentials(INGEST_USER, INGEST_PASSWORD))
        mine, other = world.ids["engineer"], world.ids["engineer_b"]
        # The app asks the API for its broker account.
        access = client.get("/iot/nudge-access", headers=login(client, "engineer")).json()
        assert access["username"] == engineer_username(mine)
        assert access["topic"] == contract.assignments_topic(mine)
        assert client.get("/iot/nudge-access", headers=as_dispatcher).status_code == 403
        me = url.with_credentials(access["username"], access["password"])
        app = App(me, access["topic"], unique("app"))
        snoop = App(me, contract.assignments_topic(other), unique("snoop"))
        wrong = App(url.with_credentials(engineer_username(other), "guess"), access["topic"], unique("bad"))
        assert app.subscribed.wait(10) and snoop.subscribed.wait(10)
        assert app.granted == [1] and snoop.granted == [0x80]
        assert not wrong.connected.wait(2)
        for engineer in (mine, other):
            wo = _new_order(client, as_dispatcher, world)
            r = client.post(
                f"/work-orders/{wo}/visits", headers=as_dispatcher, json={"engineer_id": engineer}
            )
            assert r.status_code == 201, r.text
        wait_until(lambda: app.got, timeout=10)
        time.sleep(0.5)
        assert len(app.got) == 1 and snoop.got == []
        for a in (app, snoop, wrong):
            a.close()
    finally:
        broker.stop()


@pytest.mark.mosquitto
def test_mosquitto_acl_gives_each_engineer_their_own_topic(
    system: System, world: World, tmp_path: Path
) -> None:
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    secret = _feature(system).engineer_secret
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    with system.runtime.sessions() as s:
        files = broker_files(s, {INGEST_USER: INGEST_PASSWORD}, engineer_secret=secret)
    passwd.write_text(files.passwd)
    passwd.chmod(0o600)
    acl.write_text(files.acl)
    own = OwnMosquitto(tmp_path / "mosquitto", passwd=passwd, acl=acl)
    own.start()
    try:
        mine, other = world.ids["engineer"], world.ids["engineer_b"]
        me = own.url.with_credentials(engineer_username(mine), engineer_password(secret, mine))
        app = App(me, contract.assignments_topic(mine), unique("app"))
        snoop = App(me, contract.assignments_topic(other), unique("snoop"))
        assert app.subscribed.wait(10) and snoop.subscribed.wait(10)
        server = App(own.url.with_credentials(INGEST_USER, INGEST_PASSWORD), "unused/topic", unique("srv"))
        assert server.connected.wait(10)
        for engineer in (mine, other):
            server.client.publish(contract.assignments_topic(engineer), b'{"v": 1}', qos=1).wait_for_publish(
                5
            )
        wait_until(lambda: app.got, timeout=10)
        time.sleep(0.5)
        # Mosquitto grants the subscription but delivers nothing the ACL does not allow.
        assert app.got == [{"v": 1}] and snoop.got == []
        for a in (app, snoop, server):
            a.close()
    finally:
        own.stop()
