"""Key-date reminders, churn risk and the volume forecast over real data on a controlled clock."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from litestar.testing import TestClient

from automation import people
from automation.care import forecast, keydates
from automation.care.runner import run_pass
from automation.models import Task
from core.domain.clock import FixedClock
from core.domain.lifecycle import VisitStatus
from core.services import customers, setup, visits, workorders
from core.services.context import Actor, ServiceContext
from core.store.models import Asset, WorkOrder
from fieldops.wiring import System
from tests.automation.conftest import seed
from tests.world import SHANGHAI_CALENDAR, World, login


def _ctx(system: System) -> ServiceContext:
    return ServiceContext(system.runtime.sessions(), system.runtime.clock, Actor.system("test"))


# ---------------------------------------------------------------- key dates


def _key_date_tasks(system: System) -> list[tuple[str, str, int | None]]:
    with system.runtime.sessions() as s:
        return [
            (t.notes.split(" ")[0], t.owner, t.customer_id)
            for t in s.scalars(sa.select(Task).where(Task.kind == "key_date").order_by(Task.id))
        ]


def test_key_dates_remind_the_account_owner_once_each(
    system: System, world: World, clock: FixedClock
) -> None:
    seed(system, world)  # account owner: admin for both customers
    today = clock.now().date()
    ctx = _ctx(system)
    with ctx.session:
        for number, ends in (("R-SOON", 50), ("R-LATER", 90), ("R-GONE", -30)):
            customers.create_contract(
                ctx,
                customers.ContractInput(
                    customer_id=world.ids["customer_b"],
                    number=number,
                    tier="standard",
                    starts_on=today - timedelta(days=300),
                    ends_on=today + timedelta(days=ends),
                ),
            )
        asset = ctx.session.get_one(Asset, world.ids["asset"])
        asset.warranty_ends_on = today + timedelta(days=20)
        asset.installed_on = date(today.year - 3, today.month, today.day) + timedelta(days=5)
        ctx.session.commit()
    errors: list[BaseException] = []

    def remind() -> None:
        try:
            with system.runtime.sessions() as s:
                keydates.run(ServiceContext(s, clock, Actor.system("care")))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=remind) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    remind()
    assert errors == []
    assert sorted(_key_date_tasks(system)) == [
        ("anniversary", "admin", world.ids["customer"]),
        ("renewal", "admin", world.ids["customer_b"]),
        ("warranty", "admin", world.ids["customer"]),
    ]
    # Forty days on, the later contract comes into view; the others are not reminded again.
    clock.advance(timedelta(days=40))
    remind()
    assert sorted(k for k, _, _ in _key_date_tasks(system)) == [
        "anniversary",
        "renewal",
        "renewal",
        "warranty",
    ]


def test_without_an_account_owner_nothing_is_recorded_until_there_is_one(
    system: System, world: World, clock: FixedClock
) -> None:
    ctx = _ctx(system)
    with ctx.session:
        ctx.session.get_one(Asset, world.ids["asset"]).warranty_ends_on = clock.now().date() + timedelta(
            days=3
        )
        ctx.session.commit()
        assert keydates.run(ctx).unassigned == 1
        assert _key_date_tasks(system) == []
        people.put_assignee(ctx, people.AssigneeInput(role="account_owner", username="dispatcher"))
        assert keydates.run(ctx).reminded == 1
    assert _key_date_tasks(system) == [("warranty", "dispatcher", world.ids["customer"])]


def test_a_leap_day_installation_has_its_anniversary_on_the_28th() -> None:
    assert keydates.anniversary(date(2024, 2, 29), date(2027, 2, 1)) == (3, date(2027, 2, 28))
    assert keydates.anniversary(date(2024, 2, 29), date(2028, 2, 1)) == (4, date(2028, 2, 29))
    assert keydates.anniversary(date(2020, 6, 1), date(2026, 6, 2)) == (7, date(2027, 6, 1))


# ---------------------------------------------------------------- churn


def _job(system: System, clock: FixedClock, site: int, asset: int | None, title: str, hours: float) -> int:
    """A job through the real lifecycle: created now, on site after an hour, signed off `hours` later."""
    ctx = _ctx(system)
    with ctx.session:
        wo = workorders.create_work_order(
            ctx, workorders.WorkOrderInput(title=title, site_id=site, asset_id=asset)
        )
        visit = visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=1), None)
        for status in (VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE):
            visits.transition_visit(ctx, visit.id, status)
        clock.advance(timedelta(hours=1))
        visits.transition_visit(ctx, visit.id, VisitStatus.ON_SITE)
        clock.advance(timedelta(hours=hours))
        visits.transition_visit(ctx, visit.id, VisitStatus.WORK_DONE)
        visits.transition_visit(ctx, visit.id, VisitStatus.SIGNED_OFF)
        return wo.id


def _rate(client: TestClient, admin: dict[str, str], wo: int, kind: str, score: int, n: list[int]) -> None:
    n[0] += 1
    r = client.post(
        "/surveys/invitations",
        json={"work_order_id": wo, "contact_email": f"c{n[0]}@acme.example", "kind": kind, "send": False},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    token = str(r.json()["url"]).rsplit("/surveys/", 1)[1]
    assert client.post(f"/surveys/{token}", json={"score": score}).status_code == 201


def test_churn_risk_from_real_service_signals_with_the_reasons(
    client: TestClient, system: System, world: World, clock: FixedClock
) -> None:
    seed(system, world)
    admin = login(client, "admin")
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        pump = customers.create_asset(
            ctx,
            customers.AssetInput(
                site_id=world.ids["site_b"], asset_model_id=world.ids["model"], serial="P-1"
            ),
        ).id
    site, n = world.ids["site_b"], [0]
    now = clock.now()
    # Half a year ago: six good jobs, all rated 5.
    clock.set(now - timedelta(days=200))
    for k in range(6):
        wo = _job(system, clock, site, pump, f"保养 service {k}", 2)
        _rate(client, admin, wo, "csat", 5, n)
        clock.advance(timedelta(days=15))
    # The last quarter: the same fault back 10 days after the fix, a late fix, poor ratings, NPS detractors.
    clock.set(now - timedelta(days=80))
    first = _job(system, clock, site, pump, "冷机不制冷 / not cooling", 2)
    clock.advance(timedelta(days=10))
    again = _job(system, clock, site, pump, "冷机不制冷 / not cooling", 2)
    clock.advance(timedelta(days=5))
    late = _job(system, clock, site, None, "照明故障 / lights out", 24 * 12)  # long past its targets
    later = _job(system, clock, site, None, "插座无电 / sockets dead", 24 * 12)
    for wo, score in ((first, 2), (again, 1), (late, 2)):
        _rate(client, admin, wo, "csat", score, n)
    for wo in (first, again, late):
        _rate(client, admin, wo, "nps", 3, n)
    clock.set(now)
    run_pass(system.runtime.sessions, clock)

    rows = client.get("/care/churn?owner=me", headers=admin).json()
    assert [r["customer_code"] for r in rows] == ["C2", "C1"]
    risky = rows[0]
    signals = {r["signal"] for r in risky["reasons"]}
    assert {"ratings_falling", "ratings_low", "repeat_work", "sla_breaches", "nps_negative"} <= signals
    assert risky["level"] == "high" and risky["account_owner"] == "admin"
    assert risky["signals"]["repeats"] == 1 and risky["signals"]["sla_breaches"] == 2
    assert risky["signals"]["sla_due"] == 4 and later
    # CSAT 2, 1, 2 and three NPS 3s (2 on the 1–5 scale): every rating counts.
    assert risky["signals"]["rating_before_mean"] == 5 and risky["signals"]["rating_recent_mean"] == 1.83
    assert rows[1]["score"] == 0 and rows[1]["reasons"] == []
    assert client.get("/care/churn?level=high", headers=admin).json()[0]["customer_code"] == "C2"
    assert client.get("/care/churn?owner=dispatcher", headers=admin).json() == []
    assert client.get("/care/churn", headers=login(client, "engineer")).status_code == 403


def test_a_spike_of_tickets_stands_out_against_the_usual_rate(
    client: TestClient, system: System, world: World, clock: FixedClock
) -> None:
    seed(system, world)
    now = clock.now()
    clock.set(now - timedelta(days=330))
    for _ in range(11):  # one a month
        _job(system, clock, world.ids["site"], None, "巡检 inspection", 1)
        clock.advance(timedelta(days=28))
    clock.set(now - timedelta(days=10))
    for k in range(6):
        _job(system, clock, world.ids["site"], None, f"报修 {k}", 1)
    clock.set(now)
    run_pass(system.runtime.sessions, clock)
    [c1] = [
        r
        for r in client.get("/care/churn", headers=login(client, "admin")).json()
        if r["customer_code"] == "C1"
    ]
    assert [r["signal"] for r in c1["reasons"]] == ["ticket_spike"] and c1["level"] == "medium"
    assert c1["signals"]["tickets_last_28_days"] == 6


# ---------------------------------------------------------------- forecast


def _orders(system: System, territory: int, site: int, customer: int, at: list[datetime]) -> None:
    with system.runtime.sessions() as s:
        s.execute(
            sa.insert(WorkOrder),
            [
                {
                    "title": "x",
                    "description": "",
                    "customer_id": customer,
                    "site_id": site,
                    "territory_id": territory,
                    "source": "phone",
                    "kind": "corrective",
                    "priority": 3,
                    "status": "closed",
                    "estimated_minutes": 90,
                    "windows": [],
                    "required_parts": [],
                    "created_at": t,
                    "updated_at": t,
                    "version": 1,
                }
                for t in at
            ],
        )
        s.commit()


def test_weeks_are_the_territorys_weeks(system: System, world: World, clock: FixedClock) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    sunday_night = datetime(2026, 11, 15, 23, 30, tzinfo=zone)  # still the week of Monday 9 November
    monday_early = datetime(2026, 11, 16, 0, 30, tzinfo=zone)  # both are Sunday in UTC
    assert sunday_night.astimezone(UTC).weekday() == monday_early.astimezone(UTC).weekday() == 6
    _orders(
        system, world.ids["territory"], world.ids["site"], world.ids["customer"], [sunday_night, monday_early]
    )
    with system.runtime.sessions() as s:
        weeks, counts, minutes, so_far = forecast.weekly_counts(
            ServiceContext(s, clock, Actor.system("t")), world.ids["territory"], zone
        )
    assert dict(zip(weeks, counts, strict=True)) == {date(2026, 11, 9): 1.0, date(2026, 11, 16): 1.0}
    assert minutes == 90 and so_far == 0  # the clock's week (from Monday 23 November) has none yet


def test_the_forecast_per_territory_with_its_backtest(
    client: TestClient, system: System, world: World, clock: FixedClock
) -> None:
    import math
    import random

    rng = random.Random(5)
    zone = ZoneInfo("Asia/Shanghai")
    monday = datetime(2026, 11, 23, tzinfo=zone)
    at = []
    for w in range(1, 105):  # two years of a seasonal week: 30 ± 10 over the year
        start = monday - timedelta(weeks=w)
        mean = 30 + 10 * math.sin(2 * math.pi * (104 - w) / 52.18)
        at += [
            start + timedelta(hours=rng.uniform(0, 24 * 7)) for _ in range(max(0, round(rng.gauss(mean, 3))))
        ]
    _orders(system, world.ids["territory"], world.ids["site"], world.ids["customer"], at)
    with system.runtime.sessions() as s:  # a second territory with only three weeks of history
        ctx = ServiceContext(s, clock, Actor.system("t"))
        north = setup.create_territory(
            ctx, setup.TerritoryInput(name="Tianjin", calendar=SHANGHAI_CALENDAR)
        ).id
        north_site = customers.create_site(
            ctx,
            customers.SiteInput(
                customer_id=world.ids["customer"],
                territory_id=north,
                name="N",
                address="津",
                lat=39.1,
                lon=117.2,
            ),
        ).id
    _orders(
        system,
        north,
        north_site,
        world.ids["customer"],
        [monday - timedelta(days=d) for d in (3, 10, 17, 17)],
    )
    run_pass(system.runtime.sessions, clock)

    by_name: dict[str, Any] = {
        f["territory"]: f for f in client.get("/care/forecast", headers=login(client, "dispatcher")).json()
    }
    shanghai, tianjin = by_name["上海"], by_name["Tianjin"]
    assert [w["week_start"] for w in shanghai["weeks"]][:2] == ["2026-11-23", "2026-11-30"]
    assert len(shanghai["weeks"]) == forecast.FORECAST_WEEKS and "Fourier" in shanghai["method"]
    assert all(w["low"] <= w["expected"] <= w["high"] for w in shanghai["weeks"])
    assert abs(shanghai["weeks"][0]["expected_hours"] - shanghai["weeks"][0]["expected"] * 1.5) < 0.1
    bt = shanghai["backtest"]
    assert bt["history_weeks"] == 104 and bt["origins"] == 13 and bt["model"]["points"] == 46
    assert bt["model"]["mase"] < bt["seasonal_naive"]["mase"]
    assert "recent mean" in tianjin["method"] and "needs" in tianjin["backtest"]["why"]
    assert tianjin["weeks"][0]["expected"] == round(4 / 3, 1)
    only = client.get(f"/care/forecast?territory_id={north}", headers=login(client, "admin")).json()
    assert [f["territory"] for f in only] == ["Tianjin"]
