"""Consumables end to end on a controlled clock: definitions, readings (as data and from telemetry),
predictions, one open notice per asset and consumable, tasks, the portal, replacements, many workers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from automation.care.models import CareNotice, Replacement
from automation.care.runner import run_pass
from automation.models import Task
from core.domain.clock import FixedClock
from core.services import users
from core.services.context import Actor, Role, ServiceContext
from core.store.models import Asset, OutboxEvent
from fieldops.wiring import System
from iot.models import TelemetryRow
from iot.store import maintain_partitions
from tests.automation.conftest import seed
from tests.world import PASSWORD, World, login

FILTER_DEF: dict[str, Any] = {
    "code": "filter",
    "name": "空气过滤网 air filter",
    "counter": "run_hours",
    "capacity": 1000,
    "unit": "h",
    "lead_days": 10,
    "notify": "both",
}


def _define(client: TestClient, world: World, **change: Any) -> dict[str, Any]:
    r = client.put(
        "/care/consumables",
        json={**FILTER_DEF, "asset_model_id": world.ids["model"], **change},
        headers=login(client, "admin"),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _meter(client: TestClient, world: World, clock: FixedClock, start_days_ago: int, per_day: float) -> None:
    """A reading every other day from `start_days_ago` until now; the counter read 500 at the start."""
    now = clock.now()
    readings = [
        {
            "asset_id": world.ids["asset"],
            "counter": "run_hours",
            "at": (now - timedelta(days=start_days_ago - d)).isoformat(),
            "value": 500 + per_day * d,
        }
        for d in range(0, start_days_ago + 1, 2)
    ]
    r = client.post("/care/readings", json={"readings": readings}, headers=login(client, "dispatcher"))
    assert r.status_code == 200 and r.json()["stored"] == len(readings), r.text


def _pass(system: System) -> dict[str, Any]:
    result = run_pass(system.runtime.sessions, system.runtime.clock)
    assert all("error" not in v for v in result.values() if isinstance(v, dict)), result
    return result


def _portal_user(system: System, world: World) -> None:
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, system.runtime.clock, Actor.system("t"))
        users.create_user(
            ctx,
            users.UserInput(
                username="other-customer",
                password=PASSWORD,
                role=Role.CUSTOMER,
                customer_id=world.ids["customer_b"],
            ),
        )


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"cycle_days": 90}, 422, "cycle_days"),
        ({"capacity": None}, 422, "capacity"),
        ({"counter": None}, 422, "counter"),
        ({"counter": None, "capacity": None}, 422, "cycle_days"),
        ({"asset_model_id": 999}, 422, "asset_model_id"),
        ({"notify": "pigeon"}, 400, "notify"),
        ({"capacity": -5}, 400, "capacity"),
        ({"lead_days": 400}, 400, "lead_days"),
        ({"counter": "run hours!"}, 400, "counter"),
    ],
)
def test_a_malformed_consumable_is_refused_naming_the_field(
    client: TestClient, world: World, change: dict[str, Any], status: int, field: str
) -> None:
    body = {**FILTER_DEF, "asset_model_id": world.ids["model"], **change}
    r = client.put("/care/consumables", json=body, headers=login(client, "admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert str(r.json()["field"]).endswith(field)
    assert client.put(
        "/care/consumables", json=FILTER_DEF, headers=login(client, "dispatcher")
    ).status_code in (
        400,
        403,
    )


def test_readings_are_checked_and_stored_once(client: TestClient, world: World, clock: FixedClock) -> None:
    h = login(client, "dispatcher")
    one = {"asset_id": world.ids["asset"], "counter": "run_hours", "at": clock.now().isoformat(), "value": 10}
    assert client.post("/care/readings", json={"readings": [one, one]}, headers=h).json() == {
        "received": 2,
        "stored": 1,
        "duplicates": 1,
    }
    future = {**one, "at": (clock.now() + timedelta(hours=1)).isoformat()}
    r = client.post("/care/readings", json={"readings": [one, future]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "readings[1].at"
    r = client.post("/care/readings", json={"readings": [{**one, "asset_id": 999}]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "readings[0].asset_id"


def test_a_notice_n_days_ahead_once_updated_on_repeats_and_resolved_by_the_replacement(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    seed(system, world)
    _portal_user(system, world)
    consumable = _define(client, world)
    admin, dispatcher = login(client, "admin"), login(client, "dispatcher")
    replaced = clock.now() - timedelta(days=40)
    r = client.post(
        "/care/replacements",
        json={"asset_id": world.ids["asset"], "consumable_id": consumable["id"], "at": replaced.isoformat()},
        headers=dispatcher,
    )
    assert r.status_code == 201, r.text
    # 20 h a day since the replacement 40 days ago: 800 of 1,000 h used, 10 days left = the lead time.
    _meter(client, world, clock, 40, 20)
    clock.advance(timedelta(days=-1))  # a day earlier the run-out was 11 days off: no notice yet
    _pass(system)
    assert client.get("/care/notices", headers=dispatcher).json() == []
    [prediction] = client.get("/care/run-outs", headers=dispatcher).json()
    assert prediction["basis"]["method"] == "usage" and prediction["days_left"] == pytest.approx(11, abs=0.1)

    clock.advance(timedelta(days=1))
    _pass(system)
    [notice] = client.get("/care/notices", headers=dispatcher).json()
    assert notice["days_left"] == pytest.approx(10, abs=0.05) and notice["count"] == 1
    assert notice["basis"]["used"] == pytest.approx(800) and notice["basis"]["rate_per_day"] == pytest.approx(
        20
    )
    [task] = client.get("/tasks?owner=admin", headers=admin).json()
    assert (
        task["kind"] == "consumable"
        and task["customer_id"] == world.ids["customer"]
        and "SN-001" in task["title"]
    )
    assert notice["task_id"] == task["id"]
    # The customer sees it in the portal (without the office's working); another customer does not.
    [mine] = client.get("/portal/care-notices", headers=login(client, "customer")).json()
    assert mine["id"] == notice["id"] and "basis" not in mine and "task_id" not in mine
    assert client.get("/portal/care-notices", headers=login(client, "other-customer")).json() == []

    # A day later, faster use: the same notice, updated; still one task.
    clock.advance(timedelta(days=1))
    _meter(client, world, clock, 0, 0)  # today's reading, at the level of 2 days ago + …
    r = client.post(
        "/care/readings",
        json={
            "readings": [
                {
                    "asset_id": world.ids["asset"],
                    "counter": "run_hours",
                    "at": (clock.now() - timedelta(hours=1)).isoformat(),
                    "value": 500 + 20 * 40 + 60,
                }
            ]
        },
        headers=dispatcher,
    )
    assert r.status_code == 200
    _pass(system)
    [again] = client.get("/care/notices", headers=dispatcher).json()
    assert again["id"] == notice["id"] and again["count"] == 2 and again["run_out_at"] != notice["run_out_at"]
    assert len(client.get("/tasks?owner=admin", headers=admin).json()) == 1

    # Replaced: the notice is resolved, and the next pass counts from the replacement (no new notice).
    r = client.post(
        "/care/replacements",
        json={"asset_id": world.ids["asset"], "consumable_id": consumable["id"]},
        headers=dispatcher,
    )
    assert r.status_code == 201
    [resolved] = client.get("/care/notices?state=resolved", headers=dispatcher).json()
    assert resolved["id"] == notice["id"] and resolved["resolved_reason"] == "replaced"
    _pass(system)
    assert client.get("/care/notices", headers=dispatcher).json() == []
    [prediction] = client.get("/care/run-outs", headers=dispatcher).json()
    assert prediction["days_left"] > 40
    with system.runtime.sessions() as s:
        types = list(s.scalars(sa.select(OutboxEvent.type).where(OutboxEvent.type.like("care.notice%"))))
    assert types == ["care.notice_raised", "care.notice_resolved"]


def test_many_workers_at_once_make_one_notice_and_one_task(
    client: TestClient, world: World, system: System, clock: FixedClock, backend: str
) -> None:
    seed(system, world)
    _define(client, world, counter=None, capacity=None, cycle_days=30, notify="task")
    with system.runtime.sessions() as s:  # installed 25 days ago: the first change is due in 5 days
        asset = s.get_one(Asset, world.ids["asset"])
        asset.installed_on = (clock.now() - timedelta(days=25)).date()
        s.commit()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                _pass(system)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with system.runtime.sessions() as s:
        notices = list(s.scalars(sa.select(CareNotice)))
        tasks = list(s.scalars(sa.select(Task).where(Task.kind == "consumable")))
    assert len(notices) == 1 and notices[0].status == "open" and notices[0].count >= 2
    assert len(tasks) == 1 and notices[0].task_id == tasks[0].id


def test_a_notice_is_withdrawn_when_it_is_no_longer_due(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    seed(system, world)
    _define(client, world, counter=None, capacity=None, cycle_days=30, lead_days=7)
    with system.runtime.sessions() as s:
        s.get_one(Asset, world.ids["asset"]).installed_on = (clock.now() - timedelta(days=25)).date()
        s.commit()
    _pass(system)
    assert len(client.get("/care/notices", headers=login(client, "admin")).json()) == 1
    _define(client, world, counter=None, capacity=None, cycle_days=60, lead_days=7)  # the maker says 60 days
    _pass(system)
    [withdrawn] = client.get("/care/notices?state=resolved", headers=login(client, "admin")).json()
    assert withdrawn["resolved_reason"] == "no longer due"


def test_parts_consumed_on_a_job_for_the_asset_count_as_the_replacement(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    from tests.inventory.helpers import FILTER, build_stock

    seed(system, world)
    stock = build_stock(world)
    consumable = _define(client, world, counter=None, capacity=None, cycle_days=30, sku=FILTER)
    with system.runtime.sessions() as s:
        s.get_one(Asset, world.ids["asset"]).installed_on = (clock.now() - timedelta(days=28)).date()
        s.commit()
    _pass(system)
    assert len(client.get("/care/notices", headers=login(client, "admin")).json()) == 1
    h = login(client, "admin")
    assert client.post(
        "/stock/receipts",
        json={"location_id": stock.ids["van"], "lines": [{"sku": FILTER, "quantity": 1}]},
        headers=h,
    ).status_code in (200, 201)
    wo = client.post(
        "/work-orders",
        json={"title": "换滤网", "site_id": world.ids["site"], "asset_id": world.ids["asset"]},
        headers=h,
    ).json()["id"]
    client.post(f"/work-orders/{wo}/visits", json={"engineer_id": world.ids["engineer"]}, headers=h)
    clock.advance(timedelta(hours=2))
    r = client.post(
        "/stock/consumptions",
        json={"work_order_id": wo, "lines": [{"sku": FILTER, "quantity": 1}]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    _pass(system)
    _pass(system)  # reading the outbox again records nothing twice
    with system.runtime.sessions() as s:
        [replacement] = s.scalars(sa.select(Replacement).where(Replacement.source == "stock"))
    assert replacement.work_order_id == wo and replacement.consumable_id == consumable["id"]
    assert replacement.at == clock.now()
    assert client.get("/care/notices", headers=h).json() == []
    [prediction] = client.get("/care/run-outs", headers=h).json()
    assert datetime.fromisoformat(prediction["run_out_at"]) == clock.now() + timedelta(days=30)


def test_a_usage_counter_read_from_device_telemetry(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    """No meter readings at all: the counter is the device's `run_hours` metric, sampled from telemetry."""
    seed(system, world)
    _define(client, world, capacity=2000, lead_days=14)
    now = clock.now()
    with system.runtime.sessions() as s:
        # PostgreSQL keeps telemetry in monthly partitions: the months this history falls in.
        maintain_partitions(s, now - timedelta(days=100), months_ahead=5)
        s.execute(
            sa.insert(TelemetryRow),
            [
                {
                    "device_id": "dev-1",
                    "ts": now - timedelta(hours=6 * k),
                    "seq": 1000 - k,
                    "asset_id": world.ids["asset"],
                    # Other metrics come and go; the counter grows 12 h a day and read 1,500 now.
                    "metrics": {"temperature": 40.0} if k % 5 == 0 and k else {"run_hours": 1500 - 3 * k},
                    "received_at": now,
                }
                for k in range(0, 4 * 70)
            ],
        )
        s.commit()
    _pass(system)
    [prediction] = client.get("/care/run-outs", headers=login(client, "admin")).json()
    # Never replaced: the original, fitted at 0 — 1,500 of 2,000 h used at 12 h/day: 41.7 days left.
    assert prediction["basis"]["rate_per_day"] == pytest.approx(12) and prediction["basis"]["used"] == 1500
    assert prediction["days_left"] == pytest.approx(500 / 12, abs=0.1)
    assert prediction["basis"]["readings"] >= 10
    assert client.get("/care/notices", headers=login(client, "admin")).json() == []
    clock.advance(timedelta(days=30))  # no telemetry since: the last sample is 30 days old, the rate holds
    _pass(system)
    [notice] = client.get("/care/notices", headers=login(client, "admin")).json()
    assert notice["days_left"] == pytest.approx(500 / 12 - 30, abs=0.1)
