"""An ingest worker in its own process, for the tests that kill one (`python -m tests.iot.ingest_process`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

import structlog

from core.domain.clock import SystemClock
from core.store.db import make_engine, make_sessionmaker
from iot.ingest import IngestConfig, IngestWorker
from iot.mqtt import BrokerUrl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--group", default="fieldops-ingest")
    parser.add_argument("--v5", action="store_true")
    parser.add_argument("--batch-size", type=int, default=200)
    # Hold each batch this long after its commit, before the acknowledgements: a kill then leaves
    # committed-but-unacknowledged messages, which the broker must deliver again.
    parser.add_argument("--pause-after-commit", type=float, default=0.0)
    args = parser.parse_args()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

    sessions = make_sessionmaker(make_engine(args.db))
    worker = IngestWorker(
        sessions,
        SystemClock(),
        IngestConfig(
            broker=BrokerUrl.parse(args.broker),
            worker_id=args.worker_id,
            v5=args.v5,
            batch_size=args.batch_size,
            share_group=args.group,
            session_expiry_s=600,
        ),
    )
    if args.pause_after_commit:
        process = worker.process

        def slow(messages):  # type: ignore[no-untyped-def]
            written = process(messages)
            print(f"committed {len(messages)}", flush=True)
            time.sleep(args.pause_after_commit)
            return written

        worker.process = slow  # type: ignore[method-assign]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    if not worker.wait_connected(20):
        print("not connected", flush=True)
        sys.exit(2)
    print("connected", flush=True)
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
