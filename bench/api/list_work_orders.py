"""Latency of listing 50 work orders out of 100,000, through the real ASGI app, on PostgreSQL + PostGIS.

    python bench/api/list_work_orders.py --database-url postgresql+psycopg://postgres@127.0.0.1/fieldops_bench

Seeds the database once (bulk insert; re-used on the next run if the count matches), then times each
query shape with the Litestar test client, side by side with the bare /health endpoint as the floor.
Prints a table; copy it into bench/README.md with the date and machine.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from litestar.testing import TestClient

from core.domain.clock import SystemClock
from core.services import setup, users
from core.services.context import Actor, Role, ServiceContext
from core.store.db import make_engine
from core.store.models import Customer, Site, WorkOrder, WorkOrderSkill
from fieldops.migrate import upgrade
from fieldops.settings import Settings
from fieldops.wiring import build_app, build_system

CALENDAR = {
    "timezone": "Asia/Shanghai",
    "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
STATUSES = ["new", "scheduled", "dispatched", "in_progress", "on_hold", "completed", "closed", "cancelled"]


def seed(engine: sa.Engine, n_orders: int, n_sites: int) -> None:
    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(WorkOrder)) == n_orders:
            print(f"seed: {n_orders} work orders already there", file=sys.stderr)
            return
        conn.execute(
            sa.text(
                "TRUNCATE work_order_skills, visits, work_orders, sites, customers, territories, "
                "skills, users, audit_events, outbox_events RESTART IDENTITY CASCADE"
            )
        )
    system = build_system(Settings(secret_key="bench"), engine=engine)
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, SystemClock(), Actor.system("bench"))
        territory = setup.create_territory(ctx, setup.TerritoryInput(name="Shanghai", calendar=CALENDAR))
        for code in ("hvac", "lift", "pump", "electrical"):
            setup.create_skill(ctx, setup.SkillInput(code=code, name=code))
        users.create_user(
            ctx, users.UserInput(username="bench", password="bench-password", role=Role.DISPATCHER)
        )
        territory_id = territory.id
    rng = random.Random(1)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Customer),
            [
                {"code": f"C{i}", "name": f"customer {i}", "locale": "zh-CN", "created_at": now, "version": 1}
                for i in range(200)
            ],
        )
        conn.execute(
            sa.insert(Site),
            [
                {
                    "customer_id": 1 + i % 200,
                    "territory_id": territory_id,
                    "name": f"site {i}",
                    "address": "-",
                    "lat": 31.23 + rng.gauss(0, 0.15),
                    "lon": 121.47 + rng.gauss(0, 0.2),
                    "geofence_radius_m": 200,
                    "created_at": now,
                    "version": 1,
                }
                for i in range(n_sites)
            ],
        )
        batch = 10_000
        for start in range(0, n_orders, batch):
            rows = []
            for i in range(start, min(start + batch, n_orders)):
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 120))
                site = rng.randint(1, n_sites)
                rows.append(
                    {
                        "title": f"work order {i}",
                        "description": "",
                        "customer_id": 1 + (site - 1) % 200,
                        "site_id": site,
                        "territory_id": territory_id,
                        "source": "phone",
                        "kind": "corrective",
                        "priority": rng.randint(1, 4),
                        "status": rng.choice(STATUSES),
                        "estimated_minutes": 60,
                        "windows": [],
                        "required_parts": [],
                        "created_at": created,
                        "updated_at": created,
                        "respond_by": created + timedelta(hours=4),
                        "resolve_by": created + timedelta(hours=16),
                        "respond_risk_at": created + timedelta(hours=3),
                        "resolve_risk_at": created + timedelta(hours=12),
                        "version": 1,
                    }
                )
            conn.execute(sa.insert(WorkOrder), rows)
            print(f"seed: {min(start + batch, n_orders)}/{n_orders} work orders", file=sys.stderr)
        conn.execute(
            sa.insert(WorkOrderSkill),
            [
                {
                    "work_order_id": i,
                    "skill_code": rng.choice(["hvac", "lift", "pump", "electrical"]),
                    "min_level": 1,
                }
                for i in range(1, n_orders + 1)
            ],
        )
        conn.execute(sa.text("ANALYZE"))


def measure(client: TestClient, headers: dict[str, str], url: str, repeats: int) -> tuple[float, float]:  # type: ignore[type-arg]
    for _ in range(5):
        client.get(url, headers=headers)
    timings = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        timings.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/fieldops_bench")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    upgrade(engine)
    seed(engine, args.orders, args.sites)
    system = build_system(Settings(secret_key="bench"), engine=engine)
    with TestClient(app=build_app(system)) as client:
        token = client.post("/auth/token", json={"username": "bench", "password": "bench-password"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        deep = client.get("/work-orders?limit=50", headers=headers).json()["next_cursor"]
        for _ in range(40):
            deep = client.get(f"/work-orders?limit=50&cursor={deep}", headers=headers).json()["next_cursor"]
        shapes = {
            "/health (floor)": "/health",
            "newest 50": "/work-orders?limit=50",
            "page 41 (cursor)": f"/work-orders?limit=50&cursor={deep}",
            "status=new": "/work-orders?limit=50&status=new",
            "status+priority+skill": "/work-orders?limit=50&status=new&status=on_hold&priority=P1&skill=hvac",
            "sla_state=breached": "/work-orders?limit=50&sla_state=breached",
            "within 2 km": "/work-orders?limit=50&near=31.23,121.47&within_km=2",
            "by SLA due time": "/work-orders?limit=50&sort=respond_by&status=new",
        }
        print(
            f"{args.orders:,} work orders, {args.sites:,} sites, {args.repeats} requests per shape, "
            f"{engine.dialect.name}\n"
        )
        print("| query | p50 ms | p99 ms | p50 ÷ /health |\n|---|---:|---:|---:|")
        floor = None
        for name, url in shapes.items():
            p50, p99 = measure(client, headers, url, args.repeats)
            floor = floor or p50
            print(f"| {name} | {p50:.2f} | {p99:.2f} | {p50 / floor:.1f}× |")


if __name__ == "__main__":
    main()
