"""The escalation chain on a controlled clock; webhooks to a real local receiver through 500s and restarts."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import sqlalchemy as sa
from litestar.testing import TestClient

from automation import escalation, webhooks
from automation.models import Notification, WebhookDelivery
from core.domain.clock import FixedClock
from core.services.context import Actor, ServiceContext
from core.services.workorders import WorkOrderInput, create_work_order
from fieldops.wiring import System
from tests.automation.conftest import Receiver, new_work_order
from tests.world import World, login


def _inbox(system: System) -> list[tuple[str, str]]:
    with system.runtime.sessions() as s:
        return [(n.username, n.source) for n in s.scalars(sa.select(Notification).order_by(Notification.id))]


def test_the_chain_notifies_each_level_at_its_delay_and_stops_on_acknowledgement(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    for role, extra in (
        ("supervisor", {}),
        ("service_manager", {}),
        ("account_owner", {"customer_id": world.ids["customer_b"]}),
    ):
        r = client.put(
            "/automation/assignees",
            json={"role": role, "username": "admin" if role != "supervisor" else "dispatcher", **extra},
            headers=admin,
        )
        assert r.status_code == 200, r.text
    policy = {
        "tier": "*",
        "priority": 2,
        "levels": [
            {"role": "supervisor", "after_minutes": 0},
            {"role": "service_manager", "after_minutes": 30},
            {"role": "account_owner", "after_minutes": 0, "basis": "breached"},
        ],
    }
    assert client.put("/escalations/policies", json=policy, headers=admin).status_code == 200
    bad = {
        **policy,
        "levels": [
            {"role": "supervisor", "after_minutes": 60},
            {"role": "service_manager", "after_minutes": 10},
        ],
    }
    r = client.put("/escalations/policies", json=bad, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "levels[1].after_minutes"

    wo = new_work_order(system, world.ids["site_b"], "P2")  # standard P2: respond in 480 business minutes
    ctx_s = system.runtime.sessions()
    from core.store.models import WorkOrder

    w = ctx_s.get_one(WorkOrder, wo)
    risk_at, due = w.respond_risk_at, w.respond_by
    ctx_s.close()
    assert risk_at is not None and due is not None

    def run() -> int:
        return escalation.run(system.runtime.sessions, clock)

    clock.set(risk_at - timedelta(minutes=1))
    assert run() == 0
    clock.set(risk_at)
    assert run() == 1 and run() == 0
    assert [u for u, _ in _inbox(system)] == ["dispatcher"]
    clock.set(risk_at + timedelta(minutes=29))
    assert run() == 0
    clock.set(risk_at + timedelta(minutes=30))
    assert run() == 1
    assert [u for u, _ in _inbox(system)] == ["dispatcher", "admin"]
    [esc] = client.get("/escalations", headers=admin).json()
    assert [n["level"] for n in esc["notified"]] == [1, 2]
    r = client.post(
        f"/escalations/{esc['id']}/acknowledge", json={"note": "on it"}, headers=login(client, "dispatcher")
    )
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "dispatcher"
    clock.set(due + timedelta(hours=1))  # breached: level 3 would be due, but the chain has stopped
    assert run() == 0 and len(_inbox(system)) == 2
    assert client.get("/escalations", headers=admin).json() == []


def _subscribe(client: TestClient, admin: dict[str, str], url: str, types: list[str]) -> tuple[int, str]:
    r = client.post("/webhooks", json={"name": "erp", "url": url, "event_types": types}, headers=admin)
    assert r.status_code == 201, r.text
    assert "secret" not in client.get("/webhooks", headers=admin).json()[0]
    return r.json()["id"], r.json()["secret"]


def test_each_event_arrives_once_signed_through_500s_and_a_restart(
    client: TestClient, world: World, system: System, clock: FixedClock, receiver: Receiver
) -> None:
    admin = login(client, "admin")
    sub_id, secret = _subscribe(client, admin, receiver.url, ["work_order.created"])
    receiver.script = [500, 500, 500]
    wos = [new_work_order(system, world.ids["site_b"], "P3") for _ in range(2)]
    # A rolled-back change announces nothing.
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        s.commit = s.flush  # type: ignore[method-assign]  # keep the transaction open, then roll it back
        create_work_order(ctx, WorkOrderInput(title="never", site_id=world.ids["site_b"]))
        s.rollback()
    d1 = webhooks.Deliverer(system.runtime.sessions, clock, worker="one")
    assert d1.fan_out() == 2
    d1.deliver_due()  # both get 500
    clock.advance(timedelta(minutes=2))
    d1.deliver_due()  # first retry: 500 once more, then 200
    clock.advance(timedelta(minutes=3))
    assert d1._claim()  # worker one takes the due retry under its lease … and dies before sending it
    # The restarted worker: the dead one's lease runs out, then the event goes.
    d2 = webhooks.Deliverer(system.runtime.sessions, clock, worker="two")
    for _ in range(6):
        clock.advance(timedelta(minutes=5))
        d2.fan_out()
        d2.deliver_due()
    codes = [r["code"] for r in receiver.received]
    assert codes.count(500) == 3
    ok = [r for r in receiver.received if r["code"] == 200]
    ids = {r["headers"]["x-fieldops-event-id"] for r in ok}
    assert len(ok) == 2 and len(ids) == 2
    now = clock.now().timestamp()
    for r in receiver.received:
        h = r["headers"]
        assert webhooks.verify(
            secret,
            h["x-fieldops-timestamp"],
            r["body"],
            h["x-fieldops-signature"],
            float(h["x-fieldops-timestamp"]),
        )
        assert not webhooks.verify(
            "wrong", h["x-fieldops-timestamp"], r["body"], h["x-fieldops-signature"], now
        )
    bodies = [json.loads(r["body"]) for r in ok]
    assert sorted(b["subject_id"] for b in bodies) == wos and all(
        b["type"] == "work_order.created" for b in bodies
    )
    log = client.get(f"/webhooks/{sub_id}/deliveries", headers=admin).json()
    assert {d["status"] for d in log} == {"delivered"} and sorted(d["attempts"] for d in log) == [2, 3]
    detail = client.get(f"/webhooks/deliveries/{log[0]['id']}", headers=admin).json()
    assert [a["status_code"] for a in detail["log"]][-1] == 200
    # Manual redelivery sends the same event id again (the receiver deduplicates on it).
    again = client.post(f"/webhooks/deliveries/{log[0]['id']}/redeliver", headers=admin)
    assert again.status_code == 202
    d2.deliver_due()
    assert receiver.received[-1]["headers"]["x-fieldops-event-id"] == log[0]["event_id"]


def test_a_dead_receiver_gets_the_subscription_disabled_with_a_notice(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    sub_id, _ = _subscribe(client, admin, "http://127.0.0.1:9/nobody-listens", ["work_order.*"])
    new_work_order(system, world.ids["site_b"], "P3")
    d = webhooks.Deliverer(system.runtime.sessions, clock, worker="w")
    d.fan_out()
    started = time.monotonic()
    for _ in range(webhooks.DISABLE_AFTER_FAILURES + 2):
        d.deliver_due()
        clock.advance(timedelta(hours=3))
    assert time.monotonic() - started < 30
    [sub] = client.get("/webhooks", headers=admin).json()
    assert sub["active"] is False and "failed tries in a row" in sub["disabled_reason"]
    notes = client.get("/automation/notifications", headers=admin).json()
    assert any(f"webhook:{sub_id}" == n["source"] for n in notes)
    with system.runtime.sessions() as s:
        statuses = set(s.scalars(sa.select(WebhookDelivery.status)))
    assert statuses <= {"pending", "dead"}
    assert client.post(f"/webhooks/{sub_id}/enable", headers=admin).json()["active"] is True


def test_backoff_grows_with_jitter() -> None:
    import random

    rng = random.Random(7)
    delays = [webhooks.backoff(n, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        full = min(webhooks.MAX_DELAY, webhooks.BASE_DELAY * 2 ** (n - 1))
        assert full / 2 <= delay <= full
    assert delays[-1] <= webhooks.MAX_DELAY
