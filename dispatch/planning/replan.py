"""Incremental re-plan: an urgent work order goes into today's plan within seconds, off the request thread.

The bus handler only queues the work order; one worker thread (started by `fieldops serve`, see
`start` in fieldops/commands/dispatch.py) optimises with the current plan as the starting point,
at most `replan_max_moved` visits changing engineer and locked visits untouched, then commits,
which emits `visit.assigned` and `plan.committed` for the nudges.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.errors import StaleVersion
from core.domain.events import DomainEvent
from core.services.context import Actor, ServiceContext
from core.store.models import Territory
from dispatch.planning.config import PlanningConfig
from dispatch.planning.proposals import commit, optimise

log = structlog.get_logger(__name__)

URGENT = "P1"
ATTEMPTS = 2  # a proposal gone stale between optimise and commit is made again once


@dataclass
class Replanner:
    sessions: sessionmaker[Session]
    clock: Clock
    config: PlanningConfig
    _queue: queue.Queue[tuple[int, int] | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    done: list[tuple[int, int | None]] = field(default_factory=list)  # (work order, committed proposal)

    def on_created(self, evt: DomainEvent) -> None:
        if evt.data.get("priority") != URGENT or self._thread is None:
            return
        self._queue.put((int(evt.data["territory_id"]), evt.subject_id))

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=self._work, name="dispatch-replan", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            territory_id, wo_id = item
            try:
                self.done.append((wo_id, self.replan(territory_id, wo_id)))
            except Exception:
                log.exception("urgent_replan_failed", work_order_id=wo_id)
                self.done.append((wo_id, None))

    def replan(self, territory_id: int, wo_id: int) -> int | None:
        """Insert one work order into today's plan; the committed proposal's id, or None if it did not fit."""
        for _ in range(ATTEMPTS):
            with self.sessions() as session:
                ctx = ServiceContext(session, self.clock, Actor.system("dispatch-replan"))
                territory = session.get(Territory, territory_id)
                if territory is None:
                    return None
                day = ctx.now().astimezone(ZoneInfo(territory.timezone)).date()
                p = optimise(
                    ctx,
                    self.config,
                    territory_id,
                    day,
                    time_limit=min(self.config.replan_seconds, self.config.optimizer_seconds),
                    kind="incremental",
                    max_moved=self.config.replan_max_moved,
                    only=frozenset({str(wo_id)}),
                )
                if any(u["work_order_id"] == wo_id for u in p.plan["unassigned"]):
                    log.warning("urgent_work_order_does_not_fit", work_order_id=wo_id, proposal_id=p.id)
                    return None
                try:
                    return commit(ctx, p.id).id
                except StaleVersion:
                    continue
        return None
