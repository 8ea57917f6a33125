"""Telemetry upkeep in the background: partitions created ahead, data past the retention dropped, hourly."""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from iot.store import maintain_partitions

log = structlog.get_logger(__name__)


class Upkeep:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, retention: timedelta, *, every_s: float = 3600
    ) -> None:
        self.sessions, self.clock, self.retention, self.every_s = sessions, clock, retention, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        try:
            with self.sessions() as session:
                done = maintain_partitions(session, self.clock.now(), retention=self.retention)
            if done.created or done.dropped or done.deleted_rows:
                log.info(
                    "telemetry_upkeep", created=done.created, dropped=done.dropped, deleted=done.deleted_rows
                )
        except Exception:
            # Retried next hour; ingestion creates a missing partition itself when it needs one.
            log.exception("telemetry_upkeep_failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="iot-upkeep", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        self.run_once()
        while not self._stop.wait(self.every_s):
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
