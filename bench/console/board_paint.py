"""The board's first paint with 300 engineers and 3,000 work orders, in headless Chromium.

    python bench/console/board_paint.py --database-url postgresql+psycopg://postgres@127.0.0.1/fieldops_con_bench
    python bench/console/board_paint.py            # SQLite in a temporary directory

Seeds one territory through the core services (re-used when the database already holds it): 300 engineers
with shifts, 3,000 work orders at 600 sites around Shanghai, 2,400 of them planned as visits on the day
(8 per engineer, some under way) and 600 waiting in the queue. Serves the real app with uvicorn and drives
Debian's Chromium with Playwright: each run opens a fresh page with the dispatcher's token and measures,
from navigation start, the first paint of the board (the frame after every row, the blocks of the rows
on screen and the first queue page are in the DOM) and its completion (the frame after all 2,400 blocks
are). Also times GET /board alone. Prints JSON lines and a summary; results go in bench/console/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
import uvicorn

from core.domain.clock import FixedClock
from core.domain.lifecycle import VisitStatus
from core.domain.workorders import Priority
from core.services import customers, engineers, setup, users, visits, workorders
from core.services.context import Actor, Role, ServiceContext
from core.store.db import make_engine
from core.store.models import Engineer, WorkOrder
from fieldops.migrate import upgrade
from fieldops.settings import Settings
from fieldops.wiring import System, build_app, build_system

DAY = date(2026, 11, 23)  # a Monday
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.combine(DAY, clock_time(9, 30), ZONE).astimezone(UTC)
CALENDAR = {
    "timezone": "Asia/Shanghai",
    "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
ENGINEERS, ORDERS, PLANNED_PER_ENGINEER, SITES = 300, 3000, 8, 600
CHROMIUM = os.environ.get("FIELDOPS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-dispatcher"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(system: System) -> None:
    rt = system.runtime
    with rt.sessions() as s:
        if s.scalar(sa.select(sa.func.count()).select_from(WorkOrder)) == ORDERS:
            print("seed: already there")
            return
        if s.scalar(sa.select(sa.func.count()).select_from(Engineer)):
            raise SystemExit("the database holds other data: give an empty one")
    started = time.perf_counter()
    rng = random.Random(7)
    with rt.sessions() as s:
        ctx = ServiceContext(s, rt.clock, Actor.system("bench"))
        territory = setup.create_territory(ctx, setup.TerritoryInput(name="上海", calendar=CALENDAR)).id
        setup.create_skill(ctx, setup.SkillInput(code="hvac", name="HVAC"))
        for tier in ("standard",):
            for priority in range(1, 5):
                setup.put_sla_policy(
                    ctx,
                    setup.SlaPolicyInput(
                        tier=tier,
                        priority=priority,
                        response_minutes=120 * priority,
                        resolution_minutes=480 * priority,
                    ),
                )
        users.create_user(
            ctx, users.UserInput(username="dispatcher", password=PASSWORD, role=Role.DISPATCHER)
        )
        customer = customers.create_customer(ctx, customers.CustomerInput(code="C1", name="上海物业集团")).id
        sites = [
            customers.create_site(
                ctx,
                customers.SiteInput(
                    customer_id=customer,
                    territory_id=territory,
                    name=f"站点 {i:03d}",
                    address=f"上海 {i}",
                    lat=31.0 + rng.random() * 0.45,
                    lon=121.2 + rng.random() * 0.5,
                ),
            ).id
            for i in range(SITES)
        ]
        people = [
            engineers.create_engineer(
                ctx,
                engineers.EngineerInput(
                    name=f"工程师 {i:03d}",
                    territory_id=territory,
                    home_lat=31.0 + rng.random() * 0.45,
                    home_lon=121.2 + rng.random() * 0.5,
                    skills=[engineers.SkillLevel("hvac", 3)],
                    shifts=[
                        engineers.Shift(weekday=d, start="08:00", end="18:00", break_minutes=60)
                        for d in range(6)
                    ],
                ),
            ).id
            for i in range(ENGINEERS)
        ]
        print(f"seed: setup {time.perf_counter() - started:.1f} s")
        orders = []
        for n in range(ORDERS):
            wo = workorders.create_work_order(
                ctx,
                workorders.WorkOrderInput(
                    title=f"工单 {n} 冷水机组巡检",
                    site_id=sites[n % SITES],
                    priority=Priority(f"P{1 + n % 4}"),
                    estimated_minutes=45,
                ),
            )
            orders.append(wo.id)
        print(f"seed: work orders {time.perf_counter() - started:.1f} s")
        day_start = datetime.combine(DAY, clock_time(8, 0), ZONE)
        for i, engineer in enumerate(people):
            for k in range(PLANNED_PER_ENGINEER):
                at = day_start + timedelta(minutes=70 * k)
                visit = visits.assign(
                    ctx,
                    orders[i * PLANNED_PER_ENGINEER + k],
                    visits.AssignInput(
                        engineer_id=engineer,
                        planned_start=at,
                        planned_end=at + timedelta(minutes=45),
                        dispatch=True,
                        pinned=k == 3,
                    ),
                    None,
                )
                if k == 0:  # the first job of the day is under way
                    for step in ("accepted", "en_route", "on_site"):
                        visits.transition_visit(ctx, visit.id, VisitStatus(step))
    took = time.perf_counter() - started
    print(f"seed: {ORDERS} work orders, {ENGINEERS * PLANNED_PER_ENGINEER} visits in {took:.0f} s")


def serve(system: System) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(system), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def board_api(url: str, token: str, runs: int) -> list[float]:
    out = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            r = client.get("/board", params={"day": DAY.isoformat()})
            r.raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
        body = r.json()
    print(
        json.dumps(
            {
                "board_json_bytes": len(r.content),
                "engineers": len(body["engineers"]),
                "visits": len(body["visits"]),
                "queue": len(body["queue"]),
            }
        )
    )
    return out


def paint(url: str, token: str, runs: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            context.add_init_script(f"sessionStorage.setItem('fieldops.token', {json.dumps(token)})")
            page = context.new_page()
            page.goto(f"{url}/console?day={DAY.isoformat()}")
            page.wait_for_function("() => document.body.dataset.boardCompleteAt", timeout=60_000)
            results.append(
                page.evaluate(
                    """() => ({
                        first_paint_ms: Math.round(+document.body.dataset.boardPaintedAt),
                        complete_ms: Math.round(+document.body.dataset.boardCompleteAt),
                        board_load_to_paint_ms: +document.body.dataset.boardMs,
                        board_request_start_ms: Math.round(performance.getEntriesByType('resource')
                            .find(e => e.name.includes('/board?'))?.requestStart ?? -1),
                        board_response_end_ms: Math.round(performance.getEntriesByType('resource')
                            .find(e => e.name.includes('/board?'))?.responseEnd ?? -1),
                        blocks: document.querySelectorAll('.block').length,
                        rows: document.querySelectorAll('.row').length,
                        queue_cards: document.querySelectorAll('.job').length,
                        dom_nodes: document.getElementsByTagName('*').length,
                    })"""
                )
            )
            context.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "fieldops-console-bench"))
    args = parser.parse_args()
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{data / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        data_dir=str(data),
        secret_key="bench-secret-key-of-sufficient-length",
        automation_in_serve=False,
        embedded_mqtt_port=_free_port(),
        access_token_minutes=120,
    )
    system = build_system(settings, clock=FixedClock(NOW), engine=engine)
    seed(system)
    base, server, thread = serve(system)
    try:
        token = httpx.post(
            f"{base}/auth/token", json={"username": "dispatcher", "password": PASSWORD}
        ).json()["access_token"]
        api_ms = board_api(base, token, args.runs)
        runs = paint(base, token, args.runs)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    for r in runs:
        print(json.dumps(r))
    first = [r["first_paint_ms"] for r in runs]
    summary = {
        "database": engine.dialect.name,
        "runs": args.runs,
        "board_api_ms_median": round(statistics.median(api_ms)),
        "board_api_ms_max": round(max(api_ms)),
        "first_paint_ms_median": round(statistics.median(first)),
        "first_paint_ms_max": max(first),
        "complete_ms_median": round(statistics.median(r["complete_ms"] for r in runs)),
        "complete_ms_max": max(r["complete_ms"] for r in runs),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
