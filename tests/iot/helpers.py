"""Shared pieces of the IoT tests: free ports, devices, publishers, waiting for the database to catch up."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from iot import contract
from iot.models import TelemetryRow
from iot.mqtt import BrokerUrl
from iot.registry import DeviceInput, Registered, register_device

INGEST_PASSWORD = "ingest-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def register(system: System, device_id: str, asset_id: int) -> Registered:
    rt = system.runtime
    with rt.sessions() as s:
        return register_device(
            ServiceContext(s, rt.clock, Actor.system("test")), DeviceInput(id=device_id, asset_id=asset_id)
        )


def count(system: System, model: Any = TelemetryRow, *where: Any) -> int:
    with system.runtime.sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


class Publisher:
    """A device (or an impostor): a paho client that publishes with QoS 1 and waits for each PUBACK."""

    def __init__(
        self,
        broker: BrokerUrl,
        client_id: str,
        *,
        v5: bool = False,
        will: bool = False,
        clean: bool = True,
    ) -> None:
        self.v5 = v5
        protocol = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        kwargs: dict[str, Any] = {} if v5 else {"clean_session": clean}
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, **kwargs
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if will:
            self.client.will_set(contract.status_topic(client_id), b"offline", qos=1, retain=True)
        self.connected = threading.Event()
        self.refused: Any = None
        self.client.on_connect = self._on_connect
        self.broker = broker

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.refused = reason
        else:
            self.connected.set()

    def connect(self, timeout: float = 10.0) -> bool:
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.connected.is_set() and self.refused is None:
            time.sleep(0.02)
        return self.connected.is_set()

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, wait: bool = True
    ) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if wait:
            info.wait_for_publish(10)
        return info

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


def purge_session(broker: BrokerUrl, client_id: str) -> None:
    """End a persistent MQTT 5 session for good, so it holds no share of later tests' messages."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    try:
        client.connect(broker.host, broker.port, clean_start=True)
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def telemetry(seq: int, *, ts_ms: int | None = None, **metrics: float) -> bytes:
    ms = ts_ms if ts_ms is not None else int(time.time() * 1000)
    return contract.encode_json({"ts": ms, "seq": seq, "metrics": metrics or {"temperature": 20.0 + seq % 7}})
