"""Automation throughput: rules evaluated per second, and outbox events delivered per second to a receiver.

    .venv/bin/python bench/automation/automation_bench.py    # 100,000 work orders × 50 rules, SQLite
    .venv/bin/python bench/automation/automation_bench.py --work-orders 20000 --deliveries 1000
    FIELDOPS_BENCH_DATABASE_URL=postgresql+psycopg://…/db \\
        .venv/bin/python bench/automation/automation_bench.py

Rules: half event rules (`work_order.created`, one outbox event per work order), half time rules
(`in_state new for N business hours`), each with three conditions that hold for a few orders. A
"rule evaluation" is one (rule, work order) judgement, including the SQL that finds candidates and the
facts it needs; for time rules the SQL already leaves out orders whose simple conditions cannot hold
(`automation.prefilter`), and those count as judged. The idle re-scan (a second time pass, after
everything fired) is timed for all time rules, and for the first `--compare` (5) of them with and
without that pre-filter, side by side in the same run.
Deliveries: a subscription to a local HTTP receiver, events written to the outbox, then one worker fans
out and POSTs them (signed, logged) until all are delivered.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from automation import rules, webhooks
from automation.engine import RuleEngine
from automation.models import Firing, Rule
from core.domain.clock import FixedClock
from core.services import customers, setup
from core.services.context import Actor, ServiceContext
from core.store.db import make_engine, make_sessionmaker
from core.store.models import AuditEvent, OutboxEvent, WorkOrder
from fieldops.migrate import upgrade

CALENDAR = {
    "timezone": "Asia/Shanghai",
    "week": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
T_CREATED = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # Monday 09:30 Shanghai
T_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday 16:00


def world(sessions: Any, clock: FixedClock) -> dict[str, int]:
    with sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("bench"))
        territory = setup.create_territory(ctx, setup.TerritoryInput(name="上海", calendar=CALENDAR)).id
        ids = {"territory": territory}
        for i in range(20):
            c = customers.create_customer(ctx, customers.CustomerInput(code=f"C{i}", name=f"客户 {i}")).id
            ids[f"site{i}"] = customers.create_site(
                ctx,
                customers.SiteInput(
                    customer_id=c, territory_id=territory, name="site", address="上海", lat=31.2, lon=121.5
                ),
            ).id
            ids[f"customer{i}"] = c
        return ids


def fill(sessions: Any, ids: dict[str, int], n: int) -> None:
    kinds = ("corrective", "predictive", "preventive", "installation")
    with sessions() as s:
        for start in range(0, n, 5000):
            batch = range(start, min(n, start + 5000))
            wos: list[dict[str, Any]] = [
                {
                    "id": i + 1,
                    "title": f"工单 {i}",
                    "description": "",
                    "customer_id": ids[f"customer{i % 20}"],
                    "site_id": ids[f"site{i % 20}"],
                    "territory_id": ids["territory"],
                    "source": "phone",
                    "kind": kinds[i % 4],
                    "priority": 1 + i % 4,
                    "status": "new" if i % 10 else "scheduled",
                    "estimated_minutes": 60,
                    "windows": [],
                    "required_parts": [],
                    "created_at": T_CREATED + timedelta(seconds=i % 3600),
                    "updated_at": T_CREATED,
                    "version": 1,
                }
                for i in batch
            ]
            s.execute(sa.insert(WorkOrder), wos)
            s.execute(
                sa.insert(AuditEvent),
                [
                    {
                        "at": w["created_at"],
                        "actor": "bench",
                        "subject_type": "work_order",
                        "subject_id": w["id"],
                        "action": "created",
                        "to_state": "new",
                        "data": {},
                    }
                    for w in wos
                ],
            )
            s.execute(
                sa.insert(OutboxEvent),
                [
                    {
                        "event_id": uuid.uuid4(),
                        "type": "work_order.created",
                        "subject_type": "work_order",
                        "subject_id": w["id"],
                        "occurred_at": w["created_at"],
                        "actor": "bench",
                        "data": {"priority": f"P{w['priority']}", "status": "new"},
                    }
                    for w in wos
                ],
            )
            s.commit()


def make_rules(sessions: Any, clock: FixedClock, count: int) -> None:
    with sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("bench"))
        for k in range(count):
            conditions = {
                "all": [
                    {"field": "work_order.priority", "op": "eq", "value": f"P{1 + k % 4}"},
                    {"field": "customer.code", "op": "eq", "value": f"C{k % 20}"},
                    {"field": "work_order.title", "op": "contains", "value": f"工单 {k}"},
                ]
            }
            trigger: dict[str, Any] = (
                {"event": "work_order.created"}
                if k % 2 == 0
                else {"time": {"in_state": "new", "for": {"business_hours": 1 + k % 8}}}
            )
            rules.create_rule(
                ctx,
                rules.RuleInput(
                    name=f"bench {k}",
                    trigger=trigger,
                    conditions=conditions,
                    actions=[{"type": "add_tag", "tag": f"bench{k}"}],
                ),
            )


def only_time_rules(sessions: Any, count: int | None, restore: list[int] | None = None) -> list[int]:
    """Disable all but the first `count` enabled time rules (the ids it disabled); or re-enable `restore`."""
    with sessions() as s:
        if restore is not None:
            s.execute(sa.update(Rule).where(Rule.id.in_(restore)).values(enabled=True))
            s.commit()
            return restore
        ids = list(
            s.scalars(
                sa.select(Rule.id)
                .where(Rule.trigger_kind == "time", Rule.enabled.is_(True))
                .order_by(Rule.id)
            )
        )[count:]
        s.execute(sa.update(Rule).where(Rule.id.in_(ids)).values(enabled=False))
        s.commit()
        return ids


def bench_rules(url: str, n: int, rule_count: int, compare: int = 5) -> dict[str, Any]:
    engine = make_engine(url, pool_size=4)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    clock = FixedClock(T_CREATED - timedelta(hours=1))
    ids = world(sessions, clock)
    t = time.perf_counter()
    fill(sessions, ids, n)
    load_s = time.perf_counter() - t
    make_rules(sessions, clock, rule_count)
    clock.set(T_NOW)
    worker = RuleEngine(sessions, clock, worker="bench")
    event_rules, time_rules = (rule_count + 1) // 2, rule_count // 2

    t = time.perf_counter()
    events = 0
    while True:
        stats = worker.scan_events()
        events += stats.events
        if stats.events == 0:
            break
    event_s = time.perf_counter() - t

    print(f"  event pass: {events:,} events × {event_rules} rules in {event_s:.1f}s", flush=True)
    t = time.perf_counter()
    worker.scan_time()
    time_s = time.perf_counter() - t
    print(f"  time pass: {n:,} orders × {time_rules} rules in {time_s:.1f}s", flush=True)

    t = time.perf_counter()
    worker.scan_time()  # a second pass: everything that held has fired; what a worker pays per pass
    idle_s = time.perf_counter() - t
    # Side by side on the same data: the idle pass over the first `compare` time rules with and without
    # the SQL pre-filter (without it, every order whose time has come is fetched and judged again).
    keep = only_time_rules(sessions, compare)
    t = time.perf_counter()
    worker.scan_time()
    idle_some_s = time.perf_counter() - t
    t = time.perf_counter()
    RuleEngine(sessions, clock, worker="bench-unfiltered", prefilter=False).scan_time()
    idle_unfiltered_s = time.perf_counter() - t
    only_time_rules(sessions, None, keep)

    t = time.perf_counter()
    actions = 0
    while (ran := worker.run_due().actions) > 0:
        actions += ran
    actions_s = time.perf_counter() - t
    with sessions() as s:
        fired = s.scalar(sa.select(sa.func.count()).select_from(Firing))
    engine.dispose()
    return {
        "work_orders": n,
        "rules": rule_count,
        "load_s": load_s,
        "event_evaluations_per_s": events * event_rules / event_s,
        "event_pass_s": event_s,
        "time_evaluations_per_s": n * time_rules / time_s,
        "time_pass_s": time_s,
        "time_idle_pass_s": idle_s,
        "compare_rules": compare,
        "time_idle_pass_some_s": idle_some_s,
        "time_idle_pass_unfiltered_s": idle_unfiltered_s,
        "rule_evaluations_per_s": (events * event_rules + n * time_rules) / (event_s + time_s),
        "firings": fired,
        "actions": actions,
        "actions_per_s": actions / actions_s if actions_s else 0.0,
    }


class _Receiver(BaseHTTPRequestHandler):
    """The local receiver: counts POSTs and answers 204, in a process of its own (no GIL shared)."""

    protocol_version = "HTTP/1.1"
    count: Any = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.count.get_lock():
            self.count.value += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _receive(count: Any, ready: Any) -> None:
    _Receiver.count = count
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    ready.put(server.server_address[1])
    server.serve_forever()


def bench_deliveries(url: str, count: int, hooks: ModuleType = webhooks) -> dict[str, Any]:
    """`hooks`: the webhooks module whose deliverer runs (compare_webhooks.py passes an older one)."""
    received = multiprocessing.Value("i", 0)
    ready: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receive, args=(received, ready), daemon=True)
    receiver.start()
    port = ready.get(timeout=30)
    engine = make_engine(url, pool_size=4)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    clock = FixedClock(T_NOW)
    with sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("bench"))
        hooks.create_subscription(
            ctx,
            hooks.SubscriptionInput(
                name="bench", url=f"http://127.0.0.1:{port}/hook", event_types=["bench.*"]
            ),
        )
        s.execute(
            sa.insert(OutboxEvent),
            [
                {
                    "event_id": uuid.uuid4(),
                    "type": "bench.ping",
                    "subject_type": "bench",
                    "subject_id": i,
                    "occurred_at": T_NOW,
                    "actor": "bench",
                    "data": {"i": i, "text": "事件"},
                }
                for i in range(count)
            ],
        )
        s.commit()
    import httpx

    with httpx.Client(timeout=10) as client:
        d = hooks.Deliverer(sessions, clock, worker="bench", client=client)
        t = time.perf_counter()
        delivered = 0
        while delivered < count:
            d.fan_out()
            sent = d.deliver_due()
            delivered += sent
            if sent == 0 and d.fan_out() == 0 and not d.deliver_due():
                break
        seconds = time.perf_counter() - t
    receiver.terminate()
    engine.dispose()
    return {
        "events": count,
        "delivered": delivered,
        "received": received.value,
        "seconds": seconds,
        "per_s": delivered / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work-orders", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--skip-rules", action="store_true", help="Only the webhook deliveries.")
    parser.add_argument(
        "--compare", type=int, default=5, help="Time rules in the with/without pre-filter idle comparison."
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 shared cores)", flush=True)
    base = os.environ.get("FIELDOPS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = base or f"sqlite:///{tmp}/rules.db"
        if base:
            reset(base)
        started = time.perf_counter()
        r = bench_rules(url, args.work_orders, args.rules, args.compare) if not args.skip_rules else None
        if r is not None:
            print(
                f"rules: {r['work_orders']:,} work orders × {r['rules']} rules "
                f"on {sa.make_url(url).get_backend_name()}: "
                f"{r['rule_evaluations_per_s']:,.0f} rule evaluations/s overall "
                f"(events {r['event_evaluations_per_s']:,.0f}/s in {r['event_pass_s']:.1f}s; "
                f"time conditions {r['time_evaluations_per_s']:,.0f}/s in {r['time_pass_s']:.1f}s, "
                f"idle re-scan {r['time_idle_pass_s']:.1f}s; idle re-scan of {r['compare_rules']} time rules "
                f"{r['time_idle_pass_some_s']:.2f}s, without the SQL pre-filter "
                f"{r['time_idle_pass_unfiltered_s']:.1f}s); {r['firings']} firings, "
                f"{r['actions']} actions at {r['actions_per_s']:,.0f}/s; load {r['load_s']:.1f}s; "
                f"whole run {time.perf_counter() - started:.0f}s, load average {os.getloadavg()[0]:.2f}"
            )
        url = base or f"sqlite:///{tmp}/hooks.db"
        if base:
            reset(base)
        d = bench_deliveries(url, args.deliveries)
        print(
            f"webhooks: {d['delivered']:,}/{d['events']:,} outbox events delivered "
            f"(receiver got {d['received']:,}) "
            f"in {d['seconds']:.1f}s = {d['per_s']:,.0f} deliveries/s (one worker, signed, logged); "
            f"load average {os.getloadavg()[0]:.2f}"
        )


def reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    engine.dispose()


if __name__ == "__main__":
    main()
