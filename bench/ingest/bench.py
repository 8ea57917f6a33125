"""Ingest benchmark: stored messages/s (QoS 1, Mosquitto, 1 and 2 workers) beside `mosquitto_sub` draining
the same load, latency publish → stored, and fault → work order. See bench/ingest/README.md.

    python bench/ingest/bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_iot

It starts its own Mosquitto (production settings: persistence, a deep queue) on a free port and resets
the database it is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.store.db import make_engine, make_sessionmaker  # noqa: E402
from core.store.models import Asset, AssetModel, Customer, Site, Territory  # noqa: E402
from fieldops.migrate import upgrade  # noqa: E402
from iot.models import Device  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PERCENTILES = (
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        (workdir / "data").mkdir(parents=True)
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    "persistence true",
                    f"persistence_location {workdir / 'data'}/",
                    "autosave_interval 30",
                    "max_queued_messages 2000000",
                    "max_inflight_messages 1000",
                    "log_dest none",
                    *(["user root"] if os.geteuid() == 0 else []),
                ]
            )
            + "\n"
        )
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def reset(url: str, devices: int) -> Any:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
    else:
        engine = make_engine(url, pool_size=5)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("DROP SCHEMA IF EXISTS telemetry_partitions CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    upgrade(engine)
    now = datetime.now(UTC)
    calendar = {"timezone": "Asia/Shanghai", "week": {}, "holidays": [], "extra_workdays": {}}
    with make_sessionmaker(engine)() as s:
        territory = Territory(name="bench", timezone="Asia/Shanghai", calendar=calendar)
        customer = Customer(code="B", name="Bench", created_at=now)
        model = AssetModel(code="BM", name="Bench model", category="chiller")
        s.add_all([territory, customer, model])
        s.flush()
        site = Site(
            customer_id=customer.id,
            territory_id=territory.id,
            name="S",
            address="-",
            lat=31.2,
            lon=121.5,
            created_at=now,
        )
        s.add(site)
        s.flush()
        for d in range(devices):
            asset = Asset(site_id=site.id, asset_model_id=model.id, serial=f"A{d}", created_at=now)
            s.add(asset)
            s.flush()
            s.add(
                Device(
                    id=f"bench-{d:04d}",
                    asset_id=asset.id,
                    password_hash="-",
                    broker_hash="-",
                    active=True,
                    status="unknown",
                    created_at=now,
                )
            )
        s.commit()
    return engine


def clear(engine: Any) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for name in ("telemetry", "dead_letters", "iot_workers", "device_events", "alarms"):
                conn.execute(sa.text(f"DELETE FROM {name}"))
            conn.execute(sa.text("DELETE FROM iot_leases"))
            conn.execute(sa.text("DELETE FROM detector_states"))
            return
        conn.execute(
            sa.text(
                "TRUNCATE telemetry, dead_letters, iot_workers, device_events, alarms, iot_leases, "
                "detector_states"
            )
        )


def count(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM telemetry")) or 0)


def publish(
    port: int, devices: int, n: int, rate: float = 0, faults: int = 0, msgpack: bool = False
) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/ingest/publish.py"),
            *(["--msgpack"] if msgpack else []),
            "--port",
            str(port),
            "--devices",
            str(devices),
            "--count",
            str(n),
            "--rate",
            str(rate),
            "--faults",
            str(faults),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_workers(
    url: str,
    port: int,
    k: int,
    group: str,
    detect: bool = False,
    mqtt3: bool = False,
    start_at: float = 0,
) -> list[subprocess.Popen[str]]:
    procs = []
    for i in range(k):
        args = [
            sys.executable,
            str(ROOT / "bench/ingest/worker.py"),
            "--db",
            url,
            "--broker",
            f"mqtt://127.0.0.1:{port}",
            "--worker-id",
            f"{group}-{i}",
            "--group",
            group,
        ]
        if detect and i == 0:
            args.append("--detect")
        if mqtt3:
            args.append("--mqtt3")
        if start_at:
            args += ["--start-at", str(start_at)]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=ENV))
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "connected"
    return procs


def stop_workers(procs: list[subprocess.Popen[str]]) -> int:
    """Stop the workers; their largest peak RSS in KiB."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    peak = 0
    for p in procs:
        out, _ = p.communicate(timeout=30)
        for line in out.splitlines():
            if line.startswith("peak_rss_kb "):
                peak = max(peak, int(line.split()[1]))
    return peak


def wait_count(engine: Any, n: int, timeout: float) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count(engine) >= n:
            return time.time()
        time.sleep(0.05)
    return None


def ceiling(port: int, devices: int, n: int) -> dict[str, Any]:
    """mosquitto_sub (C, QoS 1, persistent MQTT 5 session, shared subscription) draining n queued messages."""
    topic = "$share/ceiling/fieldops/v1/devices/+/telemetry"
    base = [
        "mosquitto_sub",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-V",
        "mqttv5",
        "-q",
        "1",
        "-c",
        "-i",
        "ceiling",
        "-x",
        "600",
        "-t",
        topic,
    ]
    subprocess.run([*base, "-W", "1"], capture_output=True, check=False)  # create the session, then leave
    publish(port, devices, n)
    t0 = time.time()
    subprocess.run([*base, "-C", str(n)], stdout=subprocess.DEVNULL, check=True)
    elapsed = time.time() - t0
    return {"messages": n, "seconds": round(elapsed, 2), "per_s": round(n / elapsed)}


def drain(
    engine: Any,
    url: str,
    port: int,
    devices: int,
    n: int,
    k: int,
    mqtt3: bool = False,
    msgpack: bool = False,
    lead_s: float = 6.0,
) -> dict[str, Any]:
    """k workers, away while n messages are queued for them; then the time to store them all."""
    clear(engine)
    group = f"drain{k}{'v3' if mqtt3 else 'v5'}{'mp' if msgpack else 'js'}{engine.dialect.name}"
    stop_workers(start_workers(url, port, k, group, mqtt3=mqtt3))
    publish(port, devices, n, msgpack=msgpack)
    started = time.time()
    # Every worker connects at the same instant, once its process is up (start-up excluded): the
    # clock runs from then until the last row is visible.
    t0 = started + lead_s
    procs = start_workers(url, port, k, group, mqtt3=mqtt3, start_at=t0)
    late = time.time() - t0  # > 0: a worker was not ready in time (counted in, so conservative)
    t1 = wait_count(engine, n, 300)
    time.sleep(1.0)
    stored = count(engine)
    peak_rss_kb = stop_workers(procs)
    with engine.connect() as conn:
        dup = int(conn.scalar(sa.text("SELECT coalesce(sum(duplicate), 0) FROM iot_workers")) or 0)
    seconds = (t1 or time.time()) - t0
    return {
        "workers": k,
        "protocol": "3.1.1+$share" if mqtt3 else "5+$share",
        "messages": n,
        "stored": stored,
        "lost": n - stored,
        "duplicates": dup,
        "late_s": round(max(0.0, late), 2),
        "seconds": round(seconds, 2),
        "per_s": round(stored / seconds),
        "peak_rss_mb": round(peak_rss_kb / 1024),
    }


def table(sqlite_url: str, pg_url: str | None, port: int, devices: int, n: int, smoke: bool) -> None:
    """Drain rates: SQLite vs PostgreSQL, JSON vs MessagePack, 1 vs 2 workers ($share), peak RSS."""
    combos = [("sqlite", False, 1), ("sqlite", True, 1), ("sqlite", False, 2)]
    if pg_url:
        combos += [("postgresql", False, 1), ("postgresql", True, 1), ("postgresql", False, 2)]
        combos += [("postgresql", True, 2)]
    if smoke:
        combos = [("sqlite", False, 1)] + ([("postgresql", True, 2)] if pg_url else [])
    rows = []
    engines: dict[str, Any] = {}
    for backend, msgpack, k in combos:
        url = sqlite_url if backend == "sqlite" else pg_url
        assert url is not None
        if backend not in engines:
            engines[backend] = reset(url, devices)
        r = drain(engines[backend], url, port, devices, n, k, msgpack=msgpack, lead_s=2.5 if smoke else 6.0)
        rows.append((backend, "MessagePack" if msgpack else "JSON", r))
        print(backend, "msgpack" if msgpack else "json", r, file=sys.stderr, flush=True)
    print(f"\n{n:,} messages from {devices} devices, QoS 1, own Mosquitto, MQTT 5 + $share/…\n")
    print("| database | body | workers | stored msg/s | lost | duplicates | peak RSS / worker |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for backend, body, r in rows:
        print(
            f"| {backend} | {body} | {r['workers']} | {r['per_s']:,} | {r['lost']} | {r['duplicates']} "
            f"| {r['peak_rss_mb']} MB |"
        )
    if any(r["lost"] for _, _, r in rows):
        sys.exit(1)


def live(
    engine: Any,
    url: str,
    port: int,
    devices: int,
    rate: float,
    seconds: float,
    k: int,
    faults: int,
    mqtt3: bool = False,
) -> dict[str, Any]:
    """k workers (the first also detecting) while devices publish at `rate`; latency from the rows."""
    clear(engine)
    procs = start_workers(url, port, k, f"live{k}{'v3' if mqtt3 else 'v5'}", detect=True, mqtt3=mqtt3)
    n = int(rate * seconds)
    t0 = time.time()
    sent = publish(port, devices, n, rate=rate, faults=faults)
    t_pub = time.time()
    t1 = wait_count(engine, n, 300)
    time.sleep(3.0)  # let the detection stage finish the last faults
    with engine.connect() as conn:
        stored = int(conn.scalar(sa.text("SELECT count(*) FROM telemetry")) or 0)
        lat = conn.execute(
            sa.text(
                f"SELECT {PERCENTILES}, max(d) "
                "FROM (SELECT extract(epoch FROM received_at - ts) AS d FROM telemetry) x"
            )
        ).one()
        wo = conn.execute(
            sa.text(
                f"SELECT {PERCENTILES}, max(d), count(*) "
                "FROM (SELECT extract(epoch FROM w.created_at - a.first_seen_at) AS d FROM alarms a "
                "JOIN work_orders w ON w.id = a.work_order_id) x"
            )
        ).one()
    stop_workers(procs)
    return {
        "workers": k,
        "protocol": "3.1.1+$share" if mqtt3 else "5+$share",
        "target_rate": rate,
        "sent": sent["sent"],
        "publish_rate": round(sent["sent"] / sent["publish_s"]),
        "stored": stored,
        "lost": sent["sent"] - stored,
        "stored_per_s": round(stored / ((t1 or time.time()) - t0)),
        "drained_after_publisher_s": round((t1 or time.time()) - t_pub, 2),
        "publish_to_stored_ms": {
            "p50": round(lat[0] * 1000, 1),
            "p99": round(lat[1] * 1000, 1),
            "max": round(float(lat[2]) * 1000, 1),
        },
        "faults_sent": len(sent["faults"]),
        "fault_to_work_order_ms": {
            "count": wo[3],
            "p50": round((wo[0] or 0) * 1000, 1),
            "p99": round((wo[1] or 0) * 1000, 1),
            "max": round(float(wo[2] or 0) * 1000, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", help="PostgreSQL (reset!); for --table, optional")
    parser.add_argument(
        "--table",
        action="store_true",
        help="the drain table: SQLite vs PostgreSQL, JSON vs MessagePack, 1 vs 2 workers, peak RSS",
    )
    parser.add_argument("--smoke", action="store_true", help="a quick --table (< 20 s) for CI")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--live-rate", type=float, default=10_000)
    parser.add_argument("--live-seconds", type=float, default=15)
    parser.add_argument("--faults", type=int, default=30)
    parser.add_argument("--only", choices=["ceiling", "drain", "live"], action="append")
    parser.add_argument("--protocol", choices=["5", "3", "both"], default="both", help="the workers' MQTT")
    args = parser.parse_args()
    if args.table or args.smoke:
        n = 2000 if args.smoke else args.messages
        devices = 20 if args.smoke else args.devices
        with tempfile.TemporaryDirectory() as tmp:
            broker = Broker(Path(tmp) / "mqtt")
            try:
                sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                table(sqlite_url, args.database_url, broker.port, devices, n, args.smoke)
            finally:
                broker.stop()
        return
    if not args.database_url:
        parser.error("--database-url is required")
    only = set(args.only or ["ceiling", "drain", "live"])
    engine = reset(args.database_url, args.devices)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp))
        try:
            if "ceiling" in only:
                results["ceiling"] = ceiling(broker.port, args.devices, args.messages)
                print("ceiling", results["ceiling"], flush=True)
            protocols = [False, True] if args.protocol == "both" else [args.protocol == "3"]
            if "drain" in only:
                for mqtt3 in protocols:
                    for k in (1, 2):
                        key = f"drain_{k}_{'v3' if mqtt3 else 'v5'}"
                        results[key] = drain(
                            engine, args.database_url, broker.port, args.devices, args.messages, k, mqtt3
                        )
                        print(key, results[key], flush=True)
            if "live" in only:
                for mqtt3 in protocols:
                    for k in (1, 2):
                        key = f"live_{k}_{'v3' if mqtt3 else 'v5'}"
                        results[key] = live(
                            engine,
                            args.database_url,
                            broker.port,
                            args.devices,
                            args.live_rate,
                            args.live_seconds,
                            k,
                            args.faults,
                            mqtt3,
                        )
                        print(key, results[key], flush=True)
        finally:
            broker.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
