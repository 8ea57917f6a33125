"""A fleet of simulated devices speaking real MQTT (paho): noise, slow degradation to failure, sudden
faults, bursts, duplicates, malformed bodies and devices that drop off the network.

Every device publishes `rate` telemetry messages per second, QoS 1, JSON (or MessagePack), with a rising
`seq`. Healthy metrics are noise around a set point. A degrading device's vibration climbs steadily from
its normal level to the failure level over the run (`fail_at`), and at that moment it reports fault
`FAIL` — the detectors' job is to have raised a predictive work order before then.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from iot import contract
from iot.mqtt import BrokerUrl, make_client

NORMAL = {"temperature": 45.0, "vibration": 2.0, "pressure": 6.0}
NOISE = {"temperature": 0.5, "vibration": 0.05, "pressure": 0.05}
FAILURE_VIBRATION = 8.0

# Hostile bodies, one of each kind the ingest worker must refuse (see tests and `contract.judge`).
_MALFORMED: tuple[Callable[[int], bytes], ...] = (
    lambda ms: b"not json at all",
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"temperature": NaN}}' % ms,
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"temperature": 1e999}}' % ms,
    lambda ms: b'{"ts": %d, "seq": "one", "metrics": {"temperature": 1}}' % ms,
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"temperature": "hot"}}' % ms,
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"\xff\xfe": 1}}' % ms,
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"t": 1}}' % (ms + 86_400_000),
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"t": 1}}' % (ms - 30 * 86_400_000),
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {}}' % ms,
    lambda ms: b"[1, 2, 3]",
    lambda ms: b'{"ts": %d, "seq": 1, "metrics": {"t": 1}, "extra": true}' % ms,
    lambda ms: b"\x81\xa2ts\xc0",
    lambda ms: b'{"ts": %d, "metrics": {"t": %s}}' % (ms, b"1" * 40_000),
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    devices: list[str]
    rate: float = 1.0  # telemetry messages per second, per device
    duration: float = 60.0
    duplicates: float = 0.0  # probability a message is sent twice
    malformed: float = 0.0  # probability a message is replaced by a hostile body
    msgpack: float = 0.0  # share of MessagePack bodies
    degrade: int = 0  # how many devices degrade to failure over the run
    faults: int = 0  # how many devices report a sudden fault code
    offline: int = 0  # how many devices drop off (Last Will) halfway
    bursts: bool = False  # every 10 s, one second at five times the rate
    # Share connections between devices (a gateway) instead of one per device; needs an open broker.
    gateway: int = 0
    qos: int = 1
    seed: int = 7
    # The degradation reaches the failure level this far into the run (default: 90 % of it).
    fail_after: float | None = None
    # Sudden faults happen within this many seconds of the start (default: within the run).
    fault_window: float | None = None


@dataclass(slots=True)
class SimReport:
    sent: int = 0
    acked: int = 0
    duplicates: int = 0
    malformed: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    failures: dict[str, float] = field(default_factory=dict)  # device → epoch s of its (planned) failure
    failed: dict[str, float] = field(default_factory=dict)  # device → when it did report the failure
    degraded: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    refused: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Device:
    id: str
    seq: int = 0
    degrade: bool = False
    fault_at: float | None = None
    offline_at: float | None = None
    gone: bool = False


class Simulator:
    def __init__(
        self,
        broker: BrokerUrl,
        config: SimConfig,
        *,
        credentials: dict[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.broker = broker
        self.config = config
        self.credentials = credentials or {}
        self.progress = progress
        self.report = SimReport()
        self._rng = random.Random(config.seed)  # noqa: S311 - simulated noise, not secrets
        self._lock = threading.Lock()
        self._stop = threading.Event()
        ids = list(config.devices)
        shuffled = ids[:]
        self._rng.shuffle(shuffled)
        picks = iter(shuffled)
        self.devices = {d: _Device(d) for d in ids}
        for _ in range(min(config.degrade, len(ids))):
            self.devices[next(picks)].degrade = True
        for _ in range(min(config.faults, len(ids) - config.degrade)):
            self.devices[next(picks)].fault_at = self._rng.uniform(0.2, 0.8) * (
                config.fault_window or config.duration
            )
        rest = [d for d in shuffled if not self.devices[d].degrade and self.devices[d].fault_at is None]
        for device_id in rest[: config.offline]:
            self.devices[device_id].offline_at = config.duration / 2
        self.report.degraded = sorted(d for d, s in self.devices.items() if s.degrade)
        self.report.offline = sorted(d for d, s in self.devices.items() if s.offline_at is not None)
        self.clients: dict[str, mqtt.Client] = {}

    # ------------------------------------------------------------ connections

    def _connections(self) -> dict[str, list[str]]:
        """client id → the devices it carries."""
        ids = list(self.devices)
        if self.config.gateway:
            n = max(1, min(self.config.gateway, len(ids)))
            return {f"sim-gateway-{i}": ids[i::n] for i in range(n)}
        return {d: [d] for d in ids}

    def connect(self, timeout: float = 30.0) -> None:
        pending: dict[str, threading.Event] = {}
        for client_id, carried in self._connections().items():
            client = make_client(self._url_for(client_id), client_id, v5=False)
            client.max_inflight_messages_set(2000)
            client.max_queued_messages_set(0)
            if not self.config.gateway:
                client.will_set(contract.status_topic(client_id), b"offline", qos=1, retain=True)
            done = threading.Event()
            client.on_connect = self._on_connect_factory(client_id, carried, done)
            client.on_publish = self._on_publish
            client.connect_async(self.broker.host, self.broker.port, keepalive=30)
            client.loop_start()
            pending[client_id] = done
            for device_id in carried:
                self.clients[device_id] = client
        deadline = time.monotonic() + timeout
        for client_id, done in pending.items():
            if not done.wait(max(0.0, deadline - time.monotonic())):
                self.report.refused.append(client_id)

    def _url_for(self, client_id: str) -> BrokerUrl:
        password = self.credentials.get(client_id)
        if password is not None:
            return self.broker.with_credentials(client_id, password)
        return self.broker

    def _on_connect_factory(
        self, client_id: str, carried: list[str], done: threading.Event
    ) -> Callable[..., None]:
        def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                self.report.refused.append(f"{client_id}: {reason}")
                done.set()
                return
            for device_id in carried:
                client.publish(contract.status_topic(device_id), b"online", qos=1, retain=True)
            with self._lock:
                self.report.sent += len(carried)
            done.set()

        return on_connect

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
        with self._lock:
            self.report.acked += 1

    # ------------------------------------------------------------ the run

    def run(self) -> SimReport:
        cfg = self.config
        if not self.clients:
            self.connect()
        start = time.time()
        fail_after = cfg.fail_after if cfg.fail_after is not None else cfg.duration * 0.9
        for state in self.devices.values():
            if state.degrade:
                self.report.failures[state.id] = start + fail_after
        order = list(self.devices.values())
        sent_ticks = 0
        last_progress = time.monotonic()
        try:
            while not self._stop.is_set():
                elapsed = time.time() - start
                if elapsed >= cfg.duration:
                    break
                factor = 5.0 if cfg.bursts and int(elapsed) % 10 == 9 else 1.0
                due = int(elapsed * cfg.rate * factor) if factor == 1.0 else sent_ticks + 1
                while sent_ticks < due and not self._stop.is_set():
                    sent_ticks += 1
                    now = time.time()
                    for state in order:
                        self._tick(state, now, now - start, fail_after)
                if time.monotonic() - last_progress >= 1.0 and self.progress is not None:
                    last_progress = time.monotonic()
                    rate = self.report.sent / max(elapsed, 1e-9)
                    self.progress(
                        f"[{elapsed:5.1f}s] sent {self.report.sent} acked {self.report.acked} "
                        f"({rate:,.0f} msg/s) dup {self.report.duplicates} bad {self.report.malformed}"
                    )
                time.sleep(min(0.01, 1.0 / max(cfg.rate * factor, 1.0)))
        finally:
            self.report.elapsed = time.time() - start
        return self.report

    def _tick(self, state: _Device, now: float, elapsed: float, fail_after: float) -> None:
        if state.gone:
            return
        cfg, rng = self.config, self._rng
        client = self.clients[state.id]
        ms = int(now * 1000)
        if state.offline_at is not None and elapsed >= state.offline_at:
            self._drop(state)
            return
        if state.fault_at is not None and elapsed >= state.fault_at:
            state.fault_at = None
            self._event(client, state, ms, "E42", "critical", "compressor overcurrent")
            self.report.faults[state.id] = now
        if state.degrade and state.id not in self.report.failed and now >= self.report.failures[state.id]:
            self._event(client, state, ms, "FAIL", "critical", "vibration beyond the failure level: stopped")
            self.report.failed[state.id] = now
        topic = contract.telemetry_topic(state.id)
        if cfg.malformed and rng.random() < cfg.malformed:
            body = _MALFORMED[rng.randrange(len(_MALFORMED))](ms)
            self._send(client, topic, body)
            self.report.malformed += 1
            return
        state.seq += 1
        metrics = {name: round(NORMAL[name] + rng.gauss(0, NOISE[name]), 4) for name in NORMAL}
        if state.degrade:
            progress = min(1.0, elapsed / fail_after) if fail_after > 0 else 1.0
            metrics["vibration"] = round(
                NORMAL["vibration"]
                + (FAILURE_VIBRATION - NORMAL["vibration"]) * progress
                + rng.gauss(0, 0.05),
                4,
            )
        doc = {"ts": ms, "seq": state.seq, "metrics": metrics}
        body = (
            contract.encode_msgpack(doc)
            if cfg.msgpack and rng.random() < cfg.msgpack
            else contract.encode_json(doc)
        )
        self._send(client, topic, body)
        if cfg.duplicates and rng.random() < cfg.duplicates:
            self._send(client, topic, body)
            self.report.duplicates += 1

    def _event(
        self, client: mqtt.Client, state: _Device, ms: int, code: str, severity: str, detail: str
    ) -> None:
        state.seq += 1
        body = contract.encode_json(
            {"ts": ms, "seq": state.seq, "code": code, "severity": severity, "detail": detail}
        )
        self._send(client, contract.events_topic(state.id), body)

    def _send(self, client: mqtt.Client, topic: str, body: bytes) -> None:
        client.publish(topic, body, qos=self.config.qos)
        with self._lock:
            self.report.sent += 1

    def _drop(self, state: _Device) -> None:
        """Vanish without a DISCONNECT, so the broker publishes the Last Will (`offline`)."""
        state.gone = True
        client = self.clients[state.id]
        if self.config.gateway:
            return
        sock = client.socket()
        client.loop_stop()
        if sock is not None:
            sock.close()

    def close(self, drain_s: float = 10.0) -> None:
        """Wait (up to `drain_s`) for the broker to acknowledge what was sent, then disconnect."""
        deadline = time.monotonic() + drain_s
        while self.report.acked < self.report.sent and time.monotonic() < deadline:
            time.sleep(0.05)
        seen: set[int] = set()
        for device_id, client in self.clients.items():
            if id(client) in seen or self.devices[device_id].gone:
                continue
            seen.add(id(client))
            client.disconnect()
            client.loop_stop()

    def stop(self) -> None:
        self._stop.set()


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
