"""Publish telemetry as fast as asked (QoS 1) over a few connections; prints what it sent as JSON."""

from __future__ import annotations

import argparse
import json
import threading
import time

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--count", type=int, default=100_000, help="telemetry messages in all")
    parser.add_argument("--rate", type=float, default=0, help="messages/s in all (0: as fast as possible)")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument(
        "--faults", type=int, default=0, help="fault events spread over the run (one per device)"
    )
    parser.add_argument("--prefix", default="bench-")
    parser.add_argument("--msgpack", action="store_true", help="MessagePack bodies instead of JSON")
    args = parser.parse_args()

    acked = [0]
    lock = threading.Lock()

    def on_publish(*_: object) -> None:
        with lock:
            acked[0] += 1

    clients = []
    for i in range(args.connections):
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{args.prefix}pub-{i}", protocol=mqtt.MQTTv311
        )
        c.max_inflight_messages_set(5000)
        c.max_queued_messages_set(0)
        c.on_publish = on_publish
        c.connect(args.host, args.port)
        c.loop_start()
        clients.append(c)
    time.sleep(0.3)
    encode = msgspec.msgpack.encode if args.msgpack else msgspec.json.encode
    devices = [f"{args.prefix}{d:04d}" for d in range(args.devices)]
    topics = [f"fieldops/v1/devices/{d}/telemetry" for d in devices]
    seq = [0] * args.devices
    fault_every = args.count // (args.faults + 1) if args.faults else 0
    faults_sent: list[dict[str, object]] = []
    start = time.time()
    sent = 0
    for n in range(args.count):
        if args.rate:
            due = start + n / args.rate
            delay = due - time.time()
            if delay > 0.002:
                time.sleep(delay)
        d = n % args.devices
        seq[d] += 1
        now = time.time()
        body = encode(
            {
                "ts": int(now * 1000),
                "seq": seq[d],
                "metrics": {"temperature": 40.0 + (n % 10), "vibration": 2.0},
            }
        )
        clients[n % len(clients)].publish(topics[d], body, qos=1)
        sent += 1
        if fault_every and n % fault_every == fault_every // 2 and len(faults_sent) < args.faults:
            device = devices[len(faults_sent) % args.devices]
            ts = int(time.time() * 1000)
            ev = encode(
                {
                    "ts": ts,
                    "seq": 10**9 + len(faults_sent),
                    "code": "E42",
                    "severity": "major",
                    "detail": "bench",
                }
            )
            clients[0].publish(f"fieldops/v1/devices/{device}/events", ev, qos=1)
            faults_sent.append({"device": device, "ts": ts})
    published = time.time()
    deadline = time.time() + 60
    while acked[0] < sent + len(faults_sent) and time.time() < deadline:
        time.sleep(0.01)
    done = time.time()
    for c in clients:
        c.disconnect()
        c.loop_stop()
    print(
        json.dumps(
            {
                "sent": sent,
                "faults": faults_sent,
                "acked": acked[0],
                "publish_s": round(published - start, 3),
                "acked_s": round(done - start, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
