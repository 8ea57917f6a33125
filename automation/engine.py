"""The rules worker: finds what fires (from the outbox and from time), records it once, runs the actions.

Three passes, each safe to run in any number of processes at once:
1. **events** — read the outbox after this reader's cursor (one worker at a time holds the cursor row:
   `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), judge each matching enabled rule
   and record a firing, then move the cursor — one transaction, so a crash re-reads, never skips;
2. **time** — for each enabled time rule, the work orders whose condition now holds (SQL narrows by the
   wall-clock lower bound, then the territory's business calendar decides), whose conditions can hold
   (`automation.prefilter` puts the simple ones into the SQL) and that have no firing yet;
3. **actions** — claim due firings under a lease (`SKIP LOCKED` + a conditional UPDATE), run each action
   not yet recorded as done, recording it *in the same transaction* as its effect. A worker killed mid-way
   leaves its lease to expire; the next one resumes after the last recorded action.

At most once per (rule, subject, trigger occurrence) is the unique key on `automation_firings`.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session, sessionmaker

from automation import definition
from automation.actions import ActionFailed, perform
from automation.definition import Trigger
from automation.facts import customer_facts, event_facts, facts_for_many
from automation.judge import Judge, compile_conditions
from automation.models import Cursor, Firing, Rule, RuleVersion
from automation.prefilter import narrowing
from automation.store import insert_ignore, skip_locked
from core.domain.calendar import BusinessCalendar
from core.domain.clock import Clock
from core.domain.lifecycle import OPEN_STATUSES, WorkOrderStatus
from core.services.context import Actor, ServiceContext
from core.services.events import audit, emit
from core.store import outbox
from core.store.models import AuditEvent, OutboxEvent, Territory, WorkOrder

log = structlog.get_logger(__name__)

RULES_CURSOR = "rules"
BACKOFF_MINUTES = (1, 5, 15, 60, 240)


class WorkerKilled(BaseException):
    """Fault injection for tests: the worker stops dead, as with SIGKILL (no cleanup, leases left held)."""


@dataclass
class Stats:
    events: int = 0
    fired: int = 0
    actions: int = 0
    failed: int = 0

    def __iadd__(self, other: Stats) -> Stats:
        self.events += other.events
        self.fired += other.fired
        self.actions += other.actions
        self.failed += other.failed
        return self


@dataclass
class RuleEngine:
    sessions: sessionmaker[Session]
    clock: Clock
    worker: str = field(default_factory=lambda: f"worker-{os.getpid()}-{secrets.token_hex(4)}")
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    batch: int = 500
    # Fault injection (tests): raise WorkerKilled after this many actions have been recorded.
    die_after_actions: int | None = None
    # Put simple conditions into the time pass's SQL (`automation.prefilter`); off only to measure it.
    prefilter: bool = True
    _calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    def tick(self) -> Stats:
        stats = Stats()
        stats += self.scan_events()
        stats += self.scan_time()
        stats += self.run_due()
        return stats

    # ------------------------------------------------------------ 1. events

    def scan_events(self) -> Stats:
        stats = Stats()
        with self.sessions() as s:
            now = self.clock.now()
            insert_ignore(
                s, Cursor, {"name": RULES_CURSOR, "tx_id": 0, "seq": 0, "updated_at": now}, Cursor.name
            )
            s.commit()
            cur = s.scalar(skip_locked(sa.select(Cursor).where(Cursor.name == RULES_CURSOR), s))
            if cur is None:
                return stats  # another worker holds the reader; it will get there
            rules = _enabled(s, "event")
            position = (cur.tx_id, cur.seq)
            settled = outbox.head(s)
            types = sorted(
                {t for _, trig, _ in rules for t in definition.EVENT_TYPES if trig.matches_event(t)}
            )
            events = (
                outbox.read_after(s, position, [OutboxEvent.type.in_(types)], self.batch) if types else []
            )
            wo_ids = sorted({w for w in (_work_order_of(e) for e in events) if w is not None})
            known = facts_for_many(s, wo_ids, now)
            for evt in events:
                stats.events += 1
                facts: dict[str, Any] | None = None  # built once per event, judged by every rule
                for rule, trig, judge in rules:
                    if not trig.matches_event(evt.type) or evt.occurred_at < rule.created_at:
                        continue
                    if facts is None:
                        facts = self._event_facts(s, evt, known)
                    if judge(facts):
                        stats.fired += self._fire_for_event(s, rule, evt, facts, now)
            new = outbox.cursor_of(events[-1]) if events else max(position, settled)
            if new != position:
                cur.tx_id, cur.seq, cur.updated_at = new[0], new[1], now
            s.commit()
        return stats

    def _event_facts(self, s: Session, evt: OutboxEvent, known: dict[int, dict[str, Any]]) -> dict[str, Any]:
        data = evt.data or {}
        wo_id = _work_order_of(evt)
        facts = dict(known[wo_id]) if wo_id is not None and wo_id in known else {}
        if not facts and isinstance(data.get("customer_id"), int):
            facts.update(customer_facts(s, data["customer_id"]))
        facts.update(event_facts(evt.type, data))
        return facts

    def _fire_for_event(
        self, s: Session, rule: Rule, evt: OutboxEvent, facts: dict[str, Any], now: datetime
    ) -> int:
        wo_id = facts.get("work_order.id")
        subject = ("work_order", int(wo_id)) if wo_id is not None else (evt.subject_type, evt.subject_id)
        return self._fire(s, rule, subject, str(evt.event_id), facts, now)

    # ------------------------------------------------------------ 2. time

    def scan_time(self) -> Stats:
        stats = Stats()
        with self.sessions() as s:
            now = self.clock.now()
            known: dict[int, dict[str, Any]] = {}  # facts do not change within one pass: built once per order
            for rule, trig, judge in _enabled(s, "time"):
                after = 0
                # Only orders that can match come back from SQL; the judge below still decides each one.
                narrow = narrowing(rule.conditions).where if self.prefilter else None
                while True:  # keyset pages: orders whose conditions fail never starve the ones after them
                    page = time_candidates(
                        s, rule.id, trig, now, self._calendar, self.batch * 10, after, narrow
                    )
                    missing = sorted({wo_id for wo_id, _ in page.hits} - known.keys())
                    known.update(facts_for_many(s, missing, now))
                    for wo_id, occurrence in page.hits:
                        facts = known[wo_id]
                        if judge(facts):
                            stats.fired += self._fire(s, rule, ("work_order", wo_id), occurrence, facts, now)
                    s.commit()
                    if page.last_id is None:
                        break
                    after = page.last_id
        return stats

    def _calendar(self, s: Session, territory_id: int) -> BusinessCalendar:
        cal = self._calendars.get(territory_id)
        if cal is None:
            cal = BusinessCalendar.from_dict(s.get_one(Territory, territory_id).calendar)
            self._calendars[territory_id] = cal
        return cal

    def _fire(
        self,
        s: Session,
        rule: Rule,
        subject: tuple[str, int],
        occurrence: str,
        facts: dict[str, Any],
        now: datetime,
    ) -> int:
        firing_id = insert_ignore(
            s,
            Firing,
            {
                "rule_id": rule.id,
                "rule_version": rule.version,
                "subject_type": subject[0],
                "subject_id": subject[1],
                "occurrence": occurrence,
                "facts": {**facts, "rule.id": rule.id, "rule.name": rule.name},
                "status": "pending",
                "results": {},
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if firing_id is None:
            return 0
        if subject[0] == "work_order":
            ctx = ServiceContext(s, self.clock, Actor.system(f"rule:{rule.id}"))
            audit(
                ctx,
                "work_order",
                subject[1],
                "rule_fired",
                reason=rule.name,
                data={
                    "rule_id": rule.id,
                    "rule_version": rule.version,
                    "firing_id": firing_id,
                    "occurrence": occurrence,
                },
            )
        return 1

    # ------------------------------------------------------------ 3. actions

    def run_due(self) -> Stats:
        stats = Stats()
        for firing_id in self._claim():
            stats += self._run(firing_id)
        return stats

    def _claim(self) -> list[int]:
        with self.sessions() as s:
            now = self.clock.now()
            free = sa.or_(Firing.lease_until.is_(None), Firing.lease_until < now)
            ids = list(
                s.scalars(
                    skip_locked(
                        sa.select(Firing.id)
                        .where(Firing.status == "pending", Firing.next_attempt_at <= now, free)
                        .order_by(Firing.id)
                        .limit(self.batch),
                        s,
                    )
                )
            )
            claimed = []
            for firing_id in ids:
                result = s.execute(
                    sa.update(Firing)
                    .where(Firing.id == firing_id, Firing.status == "pending", free)
                    .values(lease_until=now + self.lease, leased_by=self.worker)
                )
                if getattr(result, "rowcount", 0) == 1:
                    claimed.append(firing_id)
            s.commit()
            return claimed

    def _ours(self, now: datetime, firing_id: int) -> sa.ColumnElement[bool]:
        return sa.and_(Firing.id == firing_id, Firing.leased_by == self.worker, Firing.lease_until >= now)

    def _run(self, firing_id: int) -> Stats:
        stats = Stats()
        with self.sessions() as s:
            firing = s.get_one(Firing, firing_id)
            version = s.scalar(
                sa.select(RuleVersion).where(
                    RuleVersion.rule_id == firing.rule_id, RuleVersion.version == firing.rule_version
                )
            )
            actions: list[dict[str, Any]] = list(version.definition["actions"]) if version else []
            results: dict[str, Any] = dict(firing.results or {})
            facts, subject_type, subject_id = dict(firing.facts), firing.subject_type, firing.subject_id
        finished = False
        for index, action in enumerate(actions):
            if results.get(str(index), {}).get("ok"):
                continue
            with self.sessions() as s:
                now = self.clock.now()
                ctx = ServiceContext(s, self.clock, Actor.system(f"rule:{facts.get('rule.id')}"))
                results[str(index)] = {"ok": True, "type": action["type"], "at": now.isoformat()}
                # The record goes first and shares the action's transaction (some core use cases commit).
                claimed = s.execute(
                    sa.update(Firing).where(self._ours(now, firing_id)).values(results=results)
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    s.rollback()
                    log.warning("rule_firing_lease_lost", firing_id=firing_id, worker=self.worker)
                    return stats
                wo = s.get(WorkOrder, subject_id) if subject_type == "work_order" else None
                if wo is not None:
                    audit(
                        ctx,
                        "work_order",
                        wo.id,
                        "rule_action",
                        reason=f"{facts.get('rule.name')}: {action['type']}",
                        data={
                            "rule_id": facts.get("rule.id"),
                            "firing_id": firing_id,
                            "index": index,
                            "action": action,
                        },
                    )
                try:
                    out = perform(ctx, action, facts, wo, f"firing:{firing_id}:{index}")
                except Exception as exc:
                    s.rollback()
                    results.pop(str(index), None)
                    detail = str(exc) if isinstance(exc, ActionFailed) else f"{type(exc).__name__}: {exc}"
                    stats.failed += self._failed(firing_id, index, action, detail)
                    return stats
                results[str(index)] = {**results[str(index)], **_jsonable(out)}
                # After the last action the firing is done, in the same transaction (one commit fewer).
                finished = index == len(actions) - 1
                done = {"status": "done", "finished_at": now, "lease_until": None, "last_error": None}
                s.execute(
                    sa.update(Firing)
                    .where(Firing.id == firing_id)
                    .values(results=results, **(done if finished else {}))
                )
                s.commit()
                stats.actions += 1
            if self.die_after_actions is not None:
                self.die_after_actions -= 1
                if self.die_after_actions <= 0:
                    raise WorkerKilled(self.worker)
        if finished:
            return stats
        with self.sessions() as s:  # every action was done before (by a worker that died): close it
            now = self.clock.now()
            s.execute(
                sa.update(Firing)
                .where(self._ours(now, firing_id))
                .values(status="done", finished_at=now, lease_until=None, last_error=None)
            )
            s.commit()
        return stats

    def _failed(self, firing_id: int, index: int, action: dict[str, Any], detail: str) -> int:
        with self.sessions() as s:
            now = self.clock.now()
            firing = s.get_one(Firing, firing_id)
            if firing.leased_by != self.worker:
                return 0
            ctx = ServiceContext(s, self.clock, Actor.system(f"rule:{firing.rule_id}"))
            firing.attempts += 1
            firing.last_error = f"actions[{index}] {action['type']}: {detail}"[:4000]
            firing.lease_until, firing.leased_by = None, None
            gave_up = firing.attempts >= self.max_attempts
            if gave_up:
                firing.status, firing.finished_at = "failed", now
            else:
                minutes = BACKOFF_MINUTES[min(firing.attempts - 1, len(BACKOFF_MINUTES) - 1)]
                firing.next_attempt_at = now + timedelta(minutes=minutes * random.uniform(0.8, 1.2))  # noqa: S311 (jitter)
            data = {
                "rule_id": firing.rule_id,
                "firing_id": firing.id,
                "index": index,
                "action": action["type"],
                "error": detail,
                "attempt": firing.attempts,
                "gave_up": gave_up,
            }
            if firing.subject_type == "work_order":
                audit(
                    ctx,
                    "work_order",
                    firing.subject_id,
                    "rule_failed" if gave_up else "rule_action_failed",
                    reason=detail,
                    data=data,
                )
            if gave_up:
                # Reported, never silently skipped: the event reaches webhooks and the failed list at the API.
                emit(ctx, "automation.firing_failed", firing.subject_type, firing.subject_id, data)
            log.warning("rule_action_failed", **data)
            s.commit()
            return 1


def _work_order_of(evt: OutboxEvent) -> int | None:
    if evt.subject_type == "work_order":
        return evt.subject_id
    wo_id = (evt.data or {}).get("work_order_id")
    return wo_id if isinstance(wo_id, int) else None


def _enabled(s: Session, kind: str) -> list[tuple[Rule, Trigger, Judge]]:
    """The enabled rules of a kind, each with its trigger parsed and its conditions compiled (once a pass)."""
    rules = s.scalars(
        sa.select(Rule).where(Rule.enabled.is_(True), Rule.trigger_kind == kind).order_by(Rule.id)
    )
    return [(r, definition.trigger_of(r.trigger), compile_conditions(r.conditions)) for r in rules]


def _jsonable(out: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


# ---------------------------------------------------------------- time conditions

CalendarOf = Callable[[Session, int], BusinessCalendar]
_OPEN = sorted(s.value for s in OPEN_STATUSES if s is not WorkOrderStatus.ON_HOLD)


def anchors(trig: Trigger) -> list[tuple[str, Any, list[sa.ColumnElement[bool]]]]:
    """(occurrence prefix, the SQL instant the condition counts from, extra conditions) per clock."""
    if trig.in_state is not None:
        entered = (
            sa.select(sa.func.max(AuditEvent.at))
            .where(
                AuditEvent.subject_type == "work_order",
                AuditEvent.subject_id == WorkOrder.id,
                AuditEvent.to_state == trig.in_state,
            )
            # Correlated to the outer work order wherever it is used — inside the "already fired?" EXISTS
            # too, where auto-correlation would otherwise pull in `work_orders` of its own (a global max).
            .correlate(WorkOrder)
            .scalar_subquery()
        )
        return [("", entered, [WorkOrder.status == trig.in_state])]
    if trig.after == "created":
        return [("", WorkOrder.created_at, [])]
    if trig.after == "completed":
        return [
            (
                "",
                WorkOrder.resolved_at,
                [WorkOrder.resolved_at.is_not(None), WorkOrder.status.in_(["completed", "closed"])],
            )
        ]
    open_ = WorkOrder.status.in_(_OPEN)
    if trig.sla == "at_risk":
        return [
            (
                "respond@",
                WorkOrder.respond_risk_at,
                [open_, WorkOrder.responded_at.is_(None), WorkOrder.resolved_at.is_(None)],
            ),
            ("resolve@", WorkOrder.resolve_risk_at, [open_, WorkOrder.resolved_at.is_(None)]),
        ]
    return [
        (
            "respond@",
            WorkOrder.respond_by,
            [open_, WorkOrder.responded_at.is_(None), WorkOrder.resolved_at.is_(None)],
        ),
        ("resolve@", WorkOrder.resolve_by, [open_, WorkOrder.resolved_at.is_(None)]),
    ]


@dataclass
class Page:
    hits: list[tuple[int, str]]
    # Where the next page starts (None: this was the last page).
    last_id: int | None


def time_candidates(
    s: Session,
    rule_id: int,
    trig: Trigger,
    now: datetime,
    calendar: CalendarOf,
    limit: int,
    after_id: int = 0,
    narrow: sa.ColumnElement[bool] | None = None,
) -> Page:
    """Work orders whose time condition holds at `now` and with no firing of this rule for it yet.

    `narrow` (see `automation.prefilter`) keeps out orders whose conditions cannot hold.
    """
    delay = trig.delay
    bound = now - (delay.wall_lower_bound() if delay else timedelta(0))
    # Business time: per territory, the latest start that has N business minutes by now (found once), so
    # SQL does the narrowing and only starts within a second of that instant get the exact check.
    cuts: dict[int, datetime] = {}
    if delay is not None and delay.business:
        for territory_id in s.scalars(sa.select(Territory.id)):
            cuts[territory_id] = latest_start(calendar(s, territory_id), now, delay.minutes)
    out: list[tuple[int, str]] = []
    last_id: int | None = None
    for prefix, anchor, extra in anchors(trig):
        fired = sa.exists().where(
            Firing.rule_id == rule_id,
            Firing.subject_type == "work_order",
            Firing.subject_id == WorkOrder.id,
            Firing.created_at > anchor,
            *([Firing.occurrence.like(f"{prefix}%")] if prefix else []),
        )
        in_time = [anchor <= bound]
        if cuts:
            in_time.append(
                sa.or_(
                    *(
                        sa.and_(WorkOrder.territory_id == t, anchor <= cut + timedelta(seconds=1))
                        for t, cut in cuts.items()
                    )
                )
            )
        rows = s.execute(
            sa.select(WorkOrder.id, WorkOrder.territory_id, anchor.label("anchor"))
            .where(*extra, *([narrow] if narrow is not None else []), WorkOrder.id > after_id)
            .where(anchor.is_not(None), *in_time, ~fired)
            .order_by(WorkOrder.id)
            .limit(limit)
        ).all()
        if len(rows) == limit:
            last_id = max(last_id or 0, rows[-1][0])
        for wo_id, territory_id, raw in rows:
            if raw is None:
                continue
            # SQLite may hand back the text of a subquery's max(), without a zone.
            at = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
            near_cut = territory_id in cuts and at > cuts[territory_id] - timedelta(seconds=1)
            if (
                delay is not None
                and delay.business
                and near_cut
                and delay.due(at, calendar(s, territory_id)) > now
            ):
                continue
            out.append((wo_id, prefix + at.isoformat()))
    return Page(out, last_id)


def latest_start(calendar: BusinessCalendar, now: datetime, minutes: float) -> datetime:
    """The latest instant with at least `minutes` business minutes between it and `now` (to the millisecond).

    Business minutes between a start and `now` only shrink as the start moves later: a binary search finds it.
    """
    span = timedelta(minutes=minutes)
    low = now - span
    while calendar.business_minutes_between(low, now) < minutes:
        span *= 2
        low = now - span
        if span > timedelta(days=3660):
            return low  # a calendar without working time: nothing ever qualifies
    high = now - timedelta(minutes=minutes)
    while high - low > timedelta(milliseconds=1):
        mid = low + (high - low) / 2
        if calendar.business_minutes_between(mid, now) >= minutes:
            low = mid
        else:
            high = mid
    return low
