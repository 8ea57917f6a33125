"""`fieldops worker`: the rules engine, escalations, webhook deliveries and the care pass in one loop; run any
number."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from automation import escalation, rules, webhooks
from automation.care import runner as care
from automation.engine import RuleEngine
from core.domain.clock import Clock
from core.services.context import Actor, ServiceContext

log = structlog.get_logger(__name__)


@dataclass
class Worker:
    sessions: sessionmaker[Session]
    clock: Clock
    interval: float = 2.0
    engine: RuleEngine = field(init=False)
    deliverer: webhooks.Deliverer = field(init=False)
    _seeded: bool = False

    def __post_init__(self) -> None:
        self.engine = RuleEngine(self.sessions, self.clock)
        self.deliverer = webhooks.Deliverer(self.sessions, self.clock, worker=self.engine.worker)

    def tick(self) -> dict[str, Any]:
        if not self._seeded:
            with self.sessions() as s:
                rules.ensure_seeded(ServiceContext(s, self.clock, Actor.system("seed")))
            self._seeded = True
        stats = self.engine.tick()
        notified = escalation.run(self.sessions, self.clock, self.engine.worker)
        fanned = self.deliverer.fan_out()
        delivered = self.deliverer.deliver_due()
        cared = care.run_if_due(self.sessions, self.clock, self.engine.worker)
        return {
            "events": stats.events,
            "fired": stats.fired,
            "actions": stats.actions,
            "failed": stats.failed,
            "escalations_notified": notified,
            "webhooks_queued": fanned,
            "webhooks_sent": delivered,
            "care_pass": int(cared),
        }

    def run(self, stop: threading.Event) -> None:
        log.info("automation_worker_started", worker=self.engine.worker)
        while not stop.is_set():
            try:
                result = self.tick()
                busy = any(result.values())
            except Exception:
                log.exception("automation_worker_tick_failed")
                busy = False
            if not busy:
                stop.wait(self.interval)
        log.info("automation_worker_stopped", worker=self.engine.worker)


def start_thread(sessions: sessionmaker[Session], clock: Clock, interval: float = 2.0) -> Callable[[], None]:
    stop = threading.Event()
    worker = Worker(sessions, clock, interval)
    thread = threading.Thread(target=worker.run, args=(stop,), name="fieldops-automation", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=30)

    return halt
