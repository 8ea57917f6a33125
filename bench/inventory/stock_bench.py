"""Stock ledger throughput and stock-query latency: 10,000 parts × 500 locations on PostgreSQL.

    psql -h 127.0.0.1 -U postgres -c 'create database fieldops_bench_inv'
    python bench/inventory/stock_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_inv

Seeds once (server-side INSERT … SELECT, re-used on the next run when the shape matches): 10,000 parts,
50 warehouses and 450 engineers' vans, a stock level for every (part, location) pair (5,000,000 rows),
one `receive` ledger line per non-empty level (the ledger agrees with the levels), min/max rules for the
warehouses, and 2,000 work orders to book parts against.

Then, through the real use cases (one session and one commit per operation, as a request would):
movements per second for receive / consume / adjust / transfer (ship + receive) on 1 and 4 threads, and
on one hot (part, location) row; and, through the real Litestar app (test client), the latency of the
stock queries side by side with /health as the floor, plus the optimizer's read model.
Prints tables; copy them into bench/README.md with the date and machine.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from litestar.testing import TestClient

from core.domain.clock import SystemClock
from core.domain.errors import Conflict
from core.services import setup, users
from core.services.context import Actor, Role, ServiceContext
from core.store.db import make_engine
from fieldops.migrate import upgrade
from fieldops.settings import Settings
from fieldops.wiring import System, build_app, build_system
from inventory import movements, read_model, transfers
from inventory.lines import PartLine
from inventory.models import Part, StockLevel, StockLocation

CALENDAR = {
    "timezone": "Asia/Shanghai",
    "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
WAREHOUSES = 50


@dataclass
class Shape:
    parts: int
    locations: int
    orders: int

    @property
    def vans(self) -> int:
        return self.locations - WAREHOUSES


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seeded(engine: sa.Engine, shape: Shape) -> bool:
    with engine.connect() as conn:
        parts = conn.scalar(sa.select(sa.func.count()).select_from(Part))
        places = conn.scalar(sa.select(sa.func.count()).select_from(StockLocation))
        levels = conn.scalar(sa.text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'stock_levels'"))
    return (
        parts == shape.parts
        and places == shape.locations
        and abs((levels or 0) - shape.parts * shape.locations) < 10_000
    )


def seed(engine: sa.Engine, system: System, shape: Shape) -> None:
    if seeded(engine, shape):
        log(f"seed: {shape.parts:,} parts × {shape.locations} locations already there")
        return
    with engine.begin() as conn:
        tables = ", ".join(
            t for t in sa.inspect(conn).get_table_names() if t not in ("alembic_version", "spatial_ref_sys")
        )
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, SystemClock(), Actor.system("bench"))
        territory = setup.create_territory(ctx, setup.TerritoryInput(name="Shanghai", calendar=CALENDAR))
        users.create_user(
            ctx, users.UserInput(username="bench", password="bench-password", role=Role.DISPATCHER)
        )
        territory_id = territory.id
    started = time.perf_counter()
    t = territory_id
    statements = [
        # Engineers and their vans; warehouses scattered over the city.
        f"""INSERT INTO engineers (name, territory_id, home_lat, home_lon, shifts, active, created_at,
                                   version)
            SELECT 'engineer ' || g, {t}, 31.23 + (random() - 0.5) * 0.4,
                   121.47 + (random() - 0.5) * 0.5, '[]', true, now(), 1
            FROM generate_series(1, {shape.vans}) g""",
        f"""INSERT INTO stock_locations (code, name, kind, lat, lon, territory_id, active, created_at,
                                         version)
            SELECT 'WH-' || g, 'warehouse ' || g, 'warehouse', 31.23 + (random() - 0.5) * 0.6,
                   121.47 + (random() - 0.5) * 0.8, {t}, true, now(), 1
            FROM generate_series(1, {WAREHOUSES}) g""",
        f"""INSERT INTO stock_locations (code, name, kind, engineer_id, territory_id, active, created_at,
                                         version)
            SELECT 'VAN-' || id, name || ' van', 'van', id, {t}, true, now(), 1 FROM engineers""",
        f"""INSERT INTO parts (sku, name, description, unit_of_measure, unit_cost, unit_price, serial_tracked,
                               active, created_at, updated_at, version)
            SELECT 'P' || lpad(g::text, 6, '0'), 'part ' || g, '', 'ea', 10 + g % 90, 20 + g % 180, false,
                   true, now(), now(), 1
            FROM generate_series(1, {shape.parts}) g""",
        "SELECT setseed(0.42)",
        # Every (part, location) pair; about one in five is empty.
        """INSERT INTO stock_levels (part_id, location_id, on_hand, reserved, inbound)
           SELECT p.id, l.id, CASE WHEN random() < 0.2 THEN 0 ELSE 1 + (random() * 40)::int END, 0, 0
           FROM stock_locations l CROSS JOIN parts p ORDER BY p.id, l.id""",
        """INSERT INTO stock_movements (at, kind, part_id, location_id, quantity, on_hand_delta,
                                        reserved_delta, reason, actor)
           SELECT now() - interval '30 days', 'receive', part_id, location_id, on_hand, on_hand, 0,
                  'opening stock', 'bench'
           FROM stock_levels WHERE on_hand > 0 ORDER BY part_id, location_id""",
        """INSERT INTO stock_rules (part_id, location_id, reorder_point, target, updated_at)
           SELECT p.id, l.id, 5, 30, now()
           FROM stock_locations l CROSS JOIN parts p WHERE l.kind = 'warehouse'""",
        """INSERT INTO customers (code, name, locale, created_at, version)
           VALUES ('C1', 'customer', 'zh-CN', now(), 1)""",
        f"""INSERT INTO sites (customer_id, territory_id, name, address, lat, lon, geofence_radius_m,
                               created_at, version)
            VALUES (1, {t}, 'site', '-', 31.23, 121.47, 200, now(), 1)""",
        f"""INSERT INTO work_orders (title, description, customer_id, site_id, territory_id, source, kind,
                                     priority, status, estimated_minutes, windows, required_parts,
                                     created_at, updated_at, version)
            SELECT 'job ' || g, '', 1, 1, {t}, 'phone', 'corrective', 3, 'in_progress', 60, '[]', '[]',
                   now(), now(), 1
            FROM generate_series(1, {shape.orders}) g""",
    ]
    for i, statement in enumerate(statements, 1):
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
        log(f"seed: step {i}/{len(statements)} done at {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    log(f"seed: done in {time.perf_counter() - started:.0f} s")


@dataclass
class World:
    parts: list[str]
    part_ids: list[int]
    warehouses: list[int]
    vans: list[int]
    orders: list[int]


def world(engine: sa.Engine) -> World:
    with engine.connect() as conn:
        parts = conn.execute(sa.select(Part.sku, Part.id).order_by(Part.id)).all()
        places = conn.execute(
            sa.select(StockLocation.id, StockLocation.kind).order_by(StockLocation.id)
        ).all()
        orders = list(conn.scalars(sa.text("SELECT id FROM work_orders ORDER BY id")))
    return World(
        [p.sku for p in parts],
        [p.id for p in parts],
        [p.id for p in places if p.kind == "warehouse"],
        [p.id for p in places if p.kind == "van"],
        orders,
    )


# ---------------------------------------------------------------- movements


Op = Callable[[ServiceContext, random.Random], int]  # returns the ledger lines it wrote


def op_receive(w: World) -> Op:
    def run(ctx: ServiceContext, rng: random.Random) -> int:
        line = PartLine(sku=rng.choice(w.parts), quantity=rng.randint(1, 5))
        place = rng.choice(w.warehouses + w.vans)
        movements.receive(ctx, movements.ReceiveInput(location_id=place, lines=[line], reason="bench"))
        return 1

    return run


def op_consume(w: World) -> Op:
    def run(ctx: ServiceContext, rng: random.Random) -> int:
        body = movements.ConsumeInput(
            work_order_id=rng.choice(w.orders),
            location_id=rng.choice(w.vans),
            lines=[PartLine(sku=rng.choice(w.parts))],
        )
        movements.consume(ctx, body)
        return 1

    return run


def op_adjust(w: World) -> Op:
    def run(ctx: ServiceContext, rng: random.Random) -> int:
        data = movements.AdjustInput(
            location_id=rng.choice(w.warehouses),
            sku=rng.choice(w.parts),
            change=rng.choice((-1, 1)),
            reason="count",
        )
        movements.adjust(ctx, data)
        return 1

    return run


def op_transfer(w: World) -> Op:
    def run(ctx: ServiceContext, rng: random.Random) -> int:
        body = transfers.TransferInput(
            from_location_id=rng.choice(w.warehouses),
            to_location_id=rng.choice(w.vans),
            lines=[PartLine(sku=rng.choice(w.parts), quantity=1)],
        )
        shipped = transfers.ship(ctx, body)
        transfers.receive_transfer(ctx, shipped.id)
        return 2

    return run


def op_hot(w: World) -> Op:
    """Everyone on one (part, location): half take one unit out, half put one back."""

    def run(ctx: ServiceContext, rng: random.Random) -> int:
        if rng.random() < 0.5:
            line = PartLine(sku=w.parts[0], quantity=1)
            movements.receive(ctx, movements.ReceiveInput(location_id=w.vans[0], lines=[line]))
        else:
            body = movements.ConsumeInput(
                work_order_id=w.orders[0], location_id=w.vans[0], lines=[PartLine(sku=w.parts[0])]
            )
            movements.consume(ctx, body)
        return 1

    return run


@dataclass
class Timing:
    ops: int
    lines: int
    refused: int
    seconds: float
    latencies_ms: list[float]

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def drive(system: System, op: Op, count: int, threads: int, seed: int) -> Timing:
    sessions, clock = system.runtime.sessions, SystemClock()
    per_thread = count // threads
    latencies: list[float] = []
    totals = {"lines": 0, "refused": 0}
    lock = threading.Lock()
    gate = threading.Barrier(threads)

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        mine, lines, refused = [], 0, 0
        gate.wait()
        for _ in range(per_thread):
            t = time.perf_counter()
            with sessions() as session:
                try:
                    lines += op(ServiceContext(session, clock, Actor.system("bench")), rng)
                except Conflict:
                    refused += 1
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            latencies.extend(mine)
            totals["lines"] += lines
            totals["refused"] += refused

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(worker, range(threads)))
    return Timing(
        per_thread * threads, totals["lines"], totals["refused"], time.perf_counter() - started, latencies
    )


def movement_table(system: System, w: World, count: int, threads: list[int]) -> None:
    ops = {
        "receive": op_receive(w),
        "consume (van, for a job)": op_consume(w),
        "adjust": op_adjust(w),
        "transfer (ship + receive)": op_transfer(w),
        "one hot row (receive/consume)": op_hot(w),
    }
    for op in ops.values():  # warm up every path (plans, pools)
        drive(system, op, 20, 1, seed=99)
    print("| operation | threads | ops/s | ledger lines/s | p50 ms | p99 ms | 409s | lines/s vs 1 thread |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, op in ops.items():
        base = None
        for n in threads:
            t = drive(system, op, count, n, seed=n)
            rate = t.lines / t.seconds
            base = base or rate
            print(
                f"| {name} | {n} | {t.ops / t.seconds:,.0f} | {rate:,.0f} | {t.p(0.5):.2f} | "
                f"{t.p(0.99):.2f} | {t.refused} | {rate / base:.2f}× |",
                flush=True,
            )


# ---------------------------------------------------------------- queries


def measure(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    timings = []
    for _ in range(repeats):
        t = time.perf_counter()
        call()
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)]


def query_table(system: System, w: World, repeats: int) -> None:
    rng = random.Random(7)
    with TestClient(app=build_app(system)) as client:
        token = client.post("/auth/token", json={"username": "bench", "password": "bench-password"}).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}

        def get(url: str) -> Callable[[], object]:
            def call() -> object:
                r = client.get(url, headers=h)
                assert r.status_code == 200, r.text
                return r

            return call

        wh, van, sku = w.warehouses[3], w.vans[len(w.vans) // 2], w.parts[len(w.parts) * 4 // 9]
        deep, pages = None, 0
        while pages < 100:
            url = f"/stock?location_id={wh}&limit=50" + (f"&cursor={deep}" if deep else "")
            following = client.get(url, headers=h).json()["next_cursor"]
            if following is None:
                break
            deep, pages = following, pages + 1
        engineer = rng.randint(1, len(w.vans))
        shapes: dict[str, Callable[[], object]] = {
            "/health (floor)": get("/health"),
            "stock at a van, first 50": get(f"/stock?location_id={van}&limit=50"),
            f"stock at a warehouse, page {pages + 1}": get(f"/stock?location_id={wh}&limit=50&cursor={deep}"),
            "one part at all 500 locations, first 50": get(f"/stock?sku={sku}&limit=50"),
            "one part, one location": get(f"/stock?sku={sku}&location_id={van}"),
            "low stock at a warehouse (min/max)": get(f"/stock?location_id={wh}&low=true&limit=50"),
            "ledger: one part at one place": get(f"/stock/movements?sku={sku}&location_id={wh}"),
            "ledger: a location, newest 50": get(f"/stock/movements?location_id={van}&limit=50"),
            "ledger: one work order": get(f"/stock/movements?work_order_id={w.orders[5]}"),
        }
        print("| query | p50 ms | p99 ms | p50 ÷ /health |\n|---|---:|---:|---:|")
        floor = None
        for name, call in shapes.items():
            p50, p99 = measure(call, repeats)
            floor = floor or p50
            print(f"| {name} | {p50:.2f} | {p99:.2f} | {p50 / floor:.1f}× |", flush=True)

    print("\n| read model (service call, no HTTP) | p50 ms | p99 ms | result |\n|---|---:|---:|---:|")
    with system.runtime.sessions() as s:
        mine = read_model.van_stock_of(s, engineer)
        p50, p99 = measure(lambda: read_model.van_stock_of(s, engineer), repeats)
        print(f"| van_stock_of(one engineer) | {p50:.2f} | {p99:.2f} | {len(mine):,} SKUs |")
        every = read_model.van_stock(s)
        p50, p99 = measure(lambda: read_model.van_stock(s), 5)
        entries = sum(len(v) for v in every.values())
        print(f"| van_stock() (all {len(every)} vans) | {p50:.0f} | {p99:.0f} | {entries:,} entries |")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_inv"
    )
    parser.add_argument("--parts", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--movements", type=int, default=1_000, help="operations per row of the table")
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--repeats", type=int, default=200, help="requests per query shape")
    args = parser.parse_args()
    shape = Shape(args.parts, args.locations, args.orders)
    engine = make_engine(args.database_url, pool_size=10)
    upgrade(engine)
    system = build_system(Settings(secret_key="bench-secret-key-of-sufficient-length"), engine=engine)
    seed(engine, system, shape)
    w = world(engine)
    with engine.connect() as conn:
        levels = conn.scalar(sa.select(sa.func.count()).select_from(StockLevel))
        ledger = conn.scalar(sa.text("SELECT count(*) FROM stock_movements"))
    print(
        f"{len(w.parts):,} parts × {len(w.warehouses) + len(w.vans)} locations "
        f"({len(w.warehouses)} warehouses, {len(w.vans)} vans) = {levels:,} stock levels; "
        f"ledger {ledger:,} lines; {engine.dialect.name}\n"
    )
    movement_table(system, w, args.movements, [int(n) for n in args.threads.split(",")])
    print()
    query_table(system, w, args.repeats)


if __name__ == "__main__":
    main()
