"""What one "today" and one "check-in" cost, measured in-process on the load test's data (no HTTP).

    PYTHONPATH=. python bench/mobile/per_request.py --database-url postgresql+psycopg://…/fieldops_bench_mobile

For each: SQL statements and commits per call, the app's CPU per call and the CPU of the PostgreSQL
backend that served it (one connection, one thread, so nothing else is counted). The code measured is
whatever `fieldwork`/`core` the import path finds first, so an older tree can be put side by side:

    git archive <commit> | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before python bench/mobile/per_request.py …

Check-ins move real visits (each engineer's next `assigned` one) to on site, as the load test does.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import psutil  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy import event

from core.domain.clock import SystemClock
from core.services.context import Actor, Role, ServiceContext
from core.store.db import make_engine
from fieldops.settings import Settings
from fieldops.wiring import build_system
from fieldwork import day, moves
from inventory.read_model import van_stock_of
from mobile_contract import wire

ZONE = ZoneInfo("Asia/Shanghai")


@dataclass
class Cost:
    name: str
    calls: int = 0
    statements: int = 0
    commits: int = 0
    app_cpu: float = 0.0
    pg_cpu: float = 0.0
    wall: float = 0.0

    def line(self) -> str:
        n = self.calls or 1
        return (
            f"| {self.name} | {self.calls} | {self.statements / n:.1f} | {self.commits / n:.1f} "
            f"| {self.app_cpu / n * 1000:.1f} | {self.pg_cpu / n * 1000:.1f} | {self.wall / n * 1000:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_mobile"
    )
    parser.add_argument("--calls", type=int, default=300, help="measured calls of each (after 30 unmeasured)")
    args = parser.parse_args()

    engine = make_engine(args.database_url, pool_size=1)
    system = build_system(
        Settings(secret_key="per-request-" * 4, data_dir="/tmp/fieldops-per-request"), engine=engine
    )
    counts = {"statements": 0, "commits": 0}
    event.listen(
        engine, "before_cursor_execute", lambda *_: counts.__setitem__("statements", counts["statements"] + 1)
    )
    event.listen(engine, "commit", lambda *_: counts.__setitem__("commits", counts["commits"] + 1))
    with engine.connect() as conn:
        backend = psutil.Process(conn.scalar(sa.text("SELECT pg_backend_pid()")))
        first = conn.scalar(sa.text("SELECT min(planned_start) FROM visits"))
        engineers = conn.execute(
            sa.text("SELECT id, engineer_id FROM users WHERE engineer_id IS NOT NULL ORDER BY engineer_id")
        ).all()
    today: date = first.astimezone(ZONE).date()
    actors = [Actor(user_id=u, name=f"user {u}", role=Role.ENGINEER, engineer_id=e) for u, e in engineers]

    def my_day(actor: Actor, _: Any) -> bytes:
        with system.runtime.sessions() as session:
            ctx = ServiceContext(session, SystemClock(), actor)
            me = day.my_engineer(ctx)
            return msgspec.json.encode(day.my_day(ctx, today, van=van_stock_of(session, me.id)))

    def check_in(actor: Actor, visit: Any) -> bytes:
        with system.runtime.sessions() as session:
            ctx = ServiceContext(session, SystemClock(), actor)
            move = wire.CheckIn(
                occurred_at=datetime.now(UTC), lat=visit.lat + 0.0001, lon=visit.lon, accuracy_m=12.0
            )
            return msgspec.json.encode(moves.check_in(ctx, visit.id, move, None))

    def next_visits(n: int) -> list[Any]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT ON (v.engineer_id) v.id, v.engineer_id, s.lat, s.lon FROM visits v "
                        "JOIN work_orders w ON w.id = v.work_order_id JOIN sites s ON s.id = w.site_id "
                        "WHERE v.status = 'assigned' ORDER BY v.engineer_id, v.planned_start, v.id LIMIT :n"
                    ),
                    {"n": n},
                )
            )

    by_engineer = {a.engineer_id: a for a in actors}

    def measure(name: str, call: Callable[[Actor, Any], bytes], work: list[tuple[Actor, Any]]) -> Cost:
        for actor, arg in work[:30]:
            call(actor, arg)
        cost = Cost(name, calls=len(work) - 30)
        counts.update(statements=0, commits=0)
        cpu0, pg0, t0 = time.process_time(), sum(backend.cpu_times()[:2]), time.perf_counter()
        for actor, arg in work[30:]:
            call(actor, arg)
        cost.wall = time.perf_counter() - t0
        cost.app_cpu = time.process_time() - cpu0
        cost.pg_cpu = sum(backend.cpu_times()[:2]) - pg0
        cost.statements, cost.commits = counts["statements"], counts["commits"]
        return cost

    n = args.calls + 30
    today_work = [(actors[i % len(actors)], None) for i in range(n)]
    visits = next_visits(min(n, len(actors)))
    checkin_work = [(by_engineer[v.engineer_id], v) for v in visits]
    costs = [measure(f"today ({today})", my_day, today_work), measure("check-in", check_in, checkin_work)]
    print(f"{len(actors)} engineers; {psutil.cpu_count()} CPUs, load average {psutil.getloadavg()}")
    print("| call | calls | statements | commits | app CPU ms | PostgreSQL CPU ms | wall ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cost in costs:
        print(cost.line())


if __name__ == "__main__":
    main()
