"""The care pass, and who runs it: any worker whose turn it is (`care_runs` lease), every `INTERVAL`.

Each step keeps its own pace (`STEPS`): consumables every turn, key dates hourly, churn every six hours,
the forecast daily. The lease is a conditional UPDATE (free, and due), so of many workers one takes each
turn; one killed mid-pass leaves the lease to expire and the next takes over. Nothing depends on that,
though: every step writes idempotently (unique keys, upserts, `dedupe_key`), so two passes at once agree —
the lease only saves the second one the work. Each step commits on its own: a failing step is logged and
the others run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session, sessionmaker

from automation.care import churn, forecast, keydates, notices
from automation.care.models import CareRun
from automation.store import insert_ignore
from core.domain.clock import Clock
from core.services.context import Actor, ServiceContext

log = structlog.get_logger(__name__)

NAME = "care"
INTERVAL = timedelta(minutes=15)
LEASE = timedelta(minutes=10)

Step = Callable[[ServiceContext], Any]
# Each step at its own pace: run-outs move with every reading, a forecast with every week.
STEPS: tuple[tuple[str, Step, timedelta], ...] = (
    ("consumables", notices.run, INTERVAL),
    ("key_dates", keydates.run, timedelta(hours=1)),
    ("churn", churn.run, timedelta(hours=6)),
    ("forecast", forecast.run, timedelta(hours=24)),
)


def run_pass(
    sessions: sessionmaker[Session], clock: Clock, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every step once, now — or, given the previous pass's result, only the steps whose own interval has
    passed (the others keep their last result). The lease is not consulted here."""
    result: dict[str, Any] = {}
    for name, step, every in STEPS:
        last = (previous or {}).get(name)
        at = last.get("at") if isinstance(last, dict) else None
        if isinstance(at, str) and clock.now() - datetime.fromisoformat(at) < every:
            result[name] = last
            continue
        with sessions() as s:
            ctx = ServiceContext(s, clock, Actor.system("care"))
            try:
                out = step(ctx)
                done = asdict(out) if is_dataclass(out) and not isinstance(out, type) else dict(out)
                result[name] = {**done, "at": clock.now().isoformat()}
            except Exception as exc:
                s.rollback()
                log.exception("care_step_failed", step=name)
                result[name] = {
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=3),
                }
    return result


def run_if_due(
    sessions: sessionmaker[Session], clock: Clock, worker: str, interval: timedelta = INTERVAL
) -> bool:
    """Take the turn if it is due and free, run the pass, hand the turn back; whether we ran it."""
    now = clock.now()
    with sessions() as s:
        insert_ignore(s, CareRun, {"name": NAME, "last_result": {}}, CareRun.name)
        previous = dict(s.get_one(CareRun, NAME).last_result or {})
        s.commit()
        free = sa.or_(CareRun.lease_until.is_(None), CareRun.lease_until < now)
        due = sa.or_(CareRun.next_due_at.is_(None), CareRun.next_due_at <= now)
        taken = s.execute(
            sa.update(CareRun)
            .where(CareRun.name == NAME, free, due)
            .values(holder=worker, lease_until=now + LEASE, last_started_at=now)
        )
        s.commit()
        if getattr(taken, "rowcount", 0) != 1:
            return False
    result = run_pass(sessions, clock, previous)
    finished = clock.now()
    with sessions() as s:
        s.execute(
            sa.update(CareRun)
            .where(CareRun.name == NAME, CareRun.holder == worker)
            .values(
                lease_until=None,
                next_due_at=finished + interval,
                last_finished_at=finished,
                last_result=_jsonable(result),
            )
        )
        s.commit()
    log.info("care_pass_done", worker=worker, **{k: v for k, v in result.items() if isinstance(v, dict)})
    return True


def last_run(session: Session) -> CareRun | None:
    return session.get(CareRun, NAME)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
