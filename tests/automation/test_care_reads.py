"""The small reads the console's Care view and 360° page use: one customer's churn score, and last year's
figure beside each forecast week."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from automation.care.runner import run_pass
from core.domain.clock import FixedClock
from fieldops.wiring import System
from tests.automation.conftest import seed
from tests.automation.test_care_insight import _orders
from tests.world import World, login


def test_one_customers_churn_score(
    client: TestClient, system: System, world: World, clock: FixedClock
) -> None:
    seed(system, world)
    run_pass(system.runtime.sessions, clock)
    h = login(client, "dispatcher")
    assert len(client.get("/care/churn", headers=h).json()) == 2
    rows = client.get(f"/care/churn?customer_id={world.ids['customer_b']}", headers=h).json()
    assert [(r["customer_id"], r["customer_code"], r["account_owner"]) for r in rows] == [
        (world.ids["customer_b"], "C2", "admin")
    ]
    assert client.get("/care/churn?customer_id=999", headers=h).json() == []
    assert client.get("/care/churn?customer_id=x", headers=h).status_code == 400


def test_each_forecast_week_carries_the_same_week_a_year_earlier(
    client: TestClient, system: System, world: World, clock: FixedClock
) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    monday = datetime(2026, 11, 23, 10, tzinfo=zone)  # the clock's week
    # Weeks 52 and 51 before this one had 3 and 5 work orders; nothing else a year ago.
    at = [monday - timedelta(weeks=52)] * 3 + [monday - timedelta(weeks=51)] * 5
    at += [monday - timedelta(weeks=1, days=d) for d in range(4)]
    _orders(system, world.ids["territory"], world.ids["site"], world.ids["customer"], at)
    run_pass(system.runtime.sessions, clock)
    (shanghai,) = [
        f
        for f in client.get("/care/forecast", headers=login(client, "dispatcher")).json()
        if f["territory"] == "上海"
    ]
    weeks: list[dict[str, Any]] = shanghai["weeks"]
    assert [w["last_year"] for w in weeks[:3]] == [3, 5, 0]
    assert weeks[0]["week_start"] == "2026-11-23" and weeks[0]["so_far"] == 0
    assert "so_far" not in weeks[1]
    # A territory with no work a year back has no figure for it (not a zero it never had).
    (beijing,) = [
        f
        for f in client.get("/care/forecast", headers=login(client, "dispatcher")).json()
        if f["territory"] == "Beijing"
    ]
    assert all(w["last_year"] is None for w in beijing["weeks"])
