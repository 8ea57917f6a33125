"""One ingest worker (optionally with the detection stage) in its own process, for the benchmark."""

from __future__ import annotations

import argparse
import logging
import resource
import signal
import sys
import threading
import time

import structlog

from core.domain.clock import SystemClock
from core.store.db import make_engine, make_sessionmaker
from iot.ingest import IngestConfig, IngestWorker
from iot.monitor import Monitor, MonitorConfig
from iot.mqtt import BrokerUrl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--group", default="fieldops-ingest")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--detect", action="store_true")
    parser.add_argument(
        "--start-at", type=float, default=0, help="connect at this epoch time (a common start)"
    )
    parser.add_argument("--mqtt3", action="store_true", help="MQTT 3.1.1 with $share (a Mosquitto extension)")
    args = parser.parse_args()
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )
    sessions = make_sessionmaker(make_engine(args.db))
    clock = SystemClock()
    monitor = Monitor(sessions, clock, MonitorConfig(worker_id=args.worker_id)) if args.detect else None
    worker = IngestWorker(
        sessions,
        clock,
        IngestConfig(
            broker=BrokerUrl.parse(args.broker),
            worker_id=args.worker_id,
            v5=not args.mqtt3,
            shared=True,
            batch_size=args.batch_size,
            share_group=args.group,
        ),
        on_stored=monitor.wake if monitor else None,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if monitor is not None:
        monitor.start()
    time.sleep(max(0.0, args.start_at - time.time()))
    worker.start()
    if not worker.wait_connected(20):
        sys.exit(2)
    print("connected", flush=True)
    stop.wait()
    worker.stop()
    if monitor is not None:
        monitor.stop()
    # Peak resident set size of this worker process (Linux reports KiB).
    print(f"peak_rss_kb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", flush=True)


if __name__ == "__main__":
    main()
