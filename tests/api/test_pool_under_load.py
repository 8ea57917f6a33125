"""Far more requests in flight than database connections: every one is answered, and the pool is whole after.

The outage this guards against (bench/mobile/README.md): a request's session was closed by a cleanup step
that waited for a worker thread of the same small pool in which other handlers sat waiting for a
connection — which only those cleanups could give back. With more requests in flight than threads plus
connections, the server stopped answering anything, /health included. Here a real uvicorn server runs the
real app on PostgreSQL with a deliberately small pool (6 connections) and a short pool timeout, and
is driven at 20 times the pool's size.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine

from core.domain.clock import FixedClock
from core.store.db import make_engine
from fieldops.settings import Settings
from fieldops.wiring import System, build_app, build_system
from tests.conftest import T0, truncate_all
from tests.services import DATABASE_URL, POSTGRES_URL
from tests.world import PASSWORD, World, build_world

pytestmark = pytest.mark.postgres

POOL_SIZE = 2  # make_engine opens at most three times as many: 6 connections
IN_FLIGHT = 120
# Well under the time a stuck server needs to fail its first request (the pool timeout, below).
ANSWER_WITHIN = 25.0


@pytest.fixture
def small_pool(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated PostgreSQL database (the suite's own when it runs on PostgreSQL), behind a tiny pool."""
    url = DATABASE_URL if DATABASE_URL.startswith("postgresql") else POSTGRES_URL
    schema: Engine | None = request.getfixturevalue(
        "shared_pg_engine" if DATABASE_URL.startswith("postgresql") else "postgres_x"
    )
    assert schema is not None
    truncate_all(schema)
    engine = make_engine(url, pool_size=POOL_SIZE, pool_timeout=10)
    yield engine
    engine.dispose()
    # A stuck server (the failure under test) leaves transactions open that would block the TRUNCATE.
    with schema.begin() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    truncate_all(schema)


@dataclass
class Running:
    base_url: str
    system: System
    world: World
    uv: uvicorn.Server
    thread: threading.Thread

    def stop(self, within: float) -> bool:
        """Ask the server to shut down (what SIGINT/SIGTERM do); whether it did within `within` s."""
        self.uv.should_exit = True
        self.thread.join(within)
        return not self.thread.is_alive()


@pytest.fixture
def server(small_pool: Engine, tmp_path: Path) -> Iterator[Running]:
    settings = Settings(
        data_dir=str(tmp_path / "data"), secret_key="test-secret-key-of-sufficient-length-32b"
    )
    system = build_system(settings, clock=FixedClock(T0), engine=small_pool)
    world = build_world(system)
    config = uvicorn.Config(
        build_app(system), host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = uv.servers[0].sockets[0].getsockname()[1]
    running = Running(f"http://127.0.0.1:{port}", system, world, uv, thread)
    yield running
    running.stop(within=30)  # a stuck server never finishes; its thread is a daemon and is left behind


def _plan_a_day(http: httpx.Client, world: World) -> tuple[dict[str, str], list[int]]:
    """Three visits today for the engineer (through the dispatcher's API); the engineer's headers."""
    r = http.post("/auth/token", json={"username": "dispatcher", "password": PASSWORD})
    dispatcher = {"Authorization": f"Bearer {r.json()['access_token']}"}
    visits = []
    for n in range(3):
        wo = http.post(
            "/work-orders",
            headers=dispatcher,
            json={"title": f"job {n}", "site_id": world.ids["site"], "asset_id": world.ids["asset"]},
        )
        assert wo.status_code == 201, wo.text
        visit = http.post(
            f"/work-orders/{wo.json()['id']}/visits",
            headers=dispatcher,
            json={
                "engineer_id": world.ids["engineer"],
                "dispatch": True,
                "planned_start": (T0 + timedelta(hours=1 + n)).isoformat(),
            },
        )
        assert visit.status_code == 201, visit.text
        visits.append(visit.json()["id"])
    r = http.post("/mobile/v1/auth/token", json={"username": "engineer", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}, visits


def test_many_more_requests_than_connections_are_all_answered(server: Running) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        engineer, visits = _plan_a_day(http, server.world)

    def request(n: int) -> tuple[str, str, dict[str, str], dict[str, object] | None]:
        """Mostly "today", some van reads, and keyed writes (the idempotency middleware's sessions too)."""
        if n % 4 == 3:
            body: dict[str, object] = {"text": f"note {n}", "occurred_at": T0.isoformat()}
            headers = {**engineer, "Idempotency-Key": str(uuid.uuid4())}
            return "POST", f"/mobile/v1/visits/{visits[n % len(visits)]}/notes", headers, body
        if n % 4 == 2:
            return "GET", "/mobile/v1/van", engineer, None
        return "GET", f"/mobile/v1/visits?date={T0.date().isoformat()}", engineer, None

    async def drive() -> tuple[list[tuple[int | str, float]], float | str]:
        limits = httpx.Limits(max_connections=IN_FLIGHT + 5, max_keepalive_connections=IN_FLIGHT + 5)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=None) as client:

            async def one(n: int) -> tuple[int | str, float]:
                method, path, headers, body = request(n)
                t = time.perf_counter()
                try:
                    r = await asyncio.wait_for(
                        client.request(method, path, headers=headers, json=body), ANSWER_WITHIN
                    )
                    return r.status_code, time.perf_counter() - t
                except (TimeoutError, httpx.HTTPError) as exc:
                    return type(exc).__name__, time.perf_counter() - t

            async def health_while_loaded() -> float | str:
                await asyncio.sleep(1.0)  # every request is in by now
                t = time.perf_counter()
                try:
                    r = await asyncio.wait_for(client.get("/health"), ANSWER_WITHIN)
                    return time.perf_counter() - t if r.status_code == 200 else f"status {r.status_code}"
                except TimeoutError:
                    return "no answer"

            health = asyncio.ensure_future(health_while_loaded())
            answers = await asyncio.gather(*(one(n) for n in range(IN_FLIGHT)))
            return answers, await health

    started = time.perf_counter()
    answers, health = asyncio.run(drive())
    took = time.perf_counter() - started
    outcomes = Counter(status for status, _ in answers)
    expected = Counter({200: IN_FLIGHT - IN_FLIGHT // 4, 201: IN_FLIGHT // 4})
    assert outcomes == expected, f"{dict(outcomes)} in {took:.1f} s"
    assert isinstance(health, float), f"/health under load: {health}"

    # The pool is whole: nothing checked out in the app, nothing left open in PostgreSQL. (A keyed
    # request stores its response just after sending it, so the last few may need a moment.)
    engine = server.system.engine
    settle_by = time.monotonic() + 5
    while engine.pool.checkedout() and time.monotonic() < settle_by:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with engine.connect() as conn:
        lingering = conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    assert lingering == 0
    # …and it still serves, and stops when told to (the stuck server ignored SIGINT and SIGTERM).
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        assert http.get("/ready").status_code == 200
    assert server.stop(within=10), "the server did not shut down within 10 s"
