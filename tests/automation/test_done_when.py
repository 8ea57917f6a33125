"""The issue's "done when", with workers really running side by side (threads), on a controlled clock."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from litestar.testing import TestClient

from automation import rules, webhooks
from automation.engine import RuleEngine, WorkerKilled
from automation.models import Firing, Notification, Rule, Tag, Task
from core.domain.clock import FixedClock
from core.services.context import Actor, ServiceContext
from core.services.workorders import WorkOrderInput, create_work_order
from fieldops.wiring import System
from tests.automation.conftest import Receiver, engine, new_work_order, seed
from tests.world import World, login


def _firings(system: System, name: str) -> list[Firing]:
    with system.runtime.sessions() as s:
        rule_id = s.scalar(sa.select(Rule.id).where(Rule.name == name))
        return list(s.scalars(sa.select(Firing).where(Firing.rule_id == rule_id).order_by(Firing.id)))


def _survey(client: TestClient, admin: dict[str, str], wo: int, email: str, score: int) -> None:
    r = client.post(
        "/surveys/invitations",
        json={"work_order_id": wo, "contact_email": email, "kind": "csat", "send": False},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    token = str(r.json()["url"]).rsplit("/surveys/", 1)[1]
    assert client.post(f"/surveys/{token}", json={"score": score}).status_code == 201


def _side_by_side(workers: list[RuleEngine], dead: list[str]) -> None:
    """One tick of every live worker at the same time; a worker that dies is reported in `dead`."""
    errors: list[BaseException] = []

    def run(w: RuleEngine) -> None:
        try:
            w.tick()
        except WorkerKilled:
            dead.append(w.worker)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_both_seed_rules_over_a_weekend_with_two_workers_side_by_side_one_killed_and_restarted(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    seed(system, world)
    admin = login(client, "admin")
    # Friday 17:00 in Shanghai: one business hour left today, the next at Monday 09:00.
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock.set(friday)
    urgent = new_work_order(system, world.ids["site_b"], "P1")
    routine = new_work_order(system, world.ids["site_b"], "P3")
    happy = new_work_order(system, world.ids["site_b"], "P3")
    _survey(client, admin, happy, "a@acme.example", 5)
    _survey(client, admin, routine, "b@acme.example", 4)
    due = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai: 2 business hours

    steps = [friday + timedelta(hours=h) for h in range(0, 8)]  # Friday evening, hourly
    steps += [friday + timedelta(hours=h) for h in range(12, 60, 6)]  # the weekend
    steps += [due - timedelta(minutes=m) for m in (60, 10, 1)] + [
        due + timedelta(minutes=m) for m in (0, 6, 30)
    ]
    # Whichever worker first does an action dies right after it, holding its lease (which of the two
    # claims first is up to the database); it comes back, restarted, at the next step.
    workers = [engine(system, "A", die_after_actions=1), engine(system, "B", die_after_actions=1)]
    dead: list[str] = []
    for at in steps:
        clock.set(at)
        _side_by_side(workers, dead)
        workers = [engine(system, f"{w.worker}-restarted") if w.worker in dead else w for w in workers]
        fired = _firings(system, rules.URGENT_UNHANDLED)
        if at < due:
            assert fired == [], at
        else:
            assert [f.subject_id for f in fired] == [urgent], at
    assert dead and set(dead) <= {"A", "B"}

    [escalated] = _firings(system, rules.URGENT_UNHANDLED)
    [promoted] = _firings(system, rules.PROMOTER)
    assert escalated.status == promoted.status == "done"
    assert set(escalated.results) == set(promoted.results) == {"0", "1"}
    with system.runtime.sessions() as s:
        tags = Counter(s.execute(sa.select(Tag.subject_type, Tag.subject_id, Tag.tag)).tuples().all())
        notes = list(s.scalars(sa.select(Notification).where(Notification.source.like("rule:%"))))
        [task] = s.scalars(sa.select(Task))
    assert tags == Counter(
        [("work_order", urgent, "escalated"), ("customer", world.ids["customer_b"], "promoter")]
    )
    assert [(n.username, n.work_order_id) for n in notes] == [("dispatcher", urgent)]
    assert task.kind == "care_call" and task.owner == "admin" and task.work_order_id == happy
    assert friday + timedelta(days=7) <= task.due_at <= friday + timedelta(days=7, hours=1)


def test_a_dry_run_of_an_event_rule_matches_the_live_run(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    rule = {
        "name": "gold or urgent",
        "trigger": {"event": "work_order.created"},
        "conditions": {
            "any": [
                {"field": "work_order.priority", "op": "eq", "value": "P1"},
                {"field": "contract.tier", "op": "eq", "value": "gold"},
            ]
        },
        "actions": [{"type": "add_tag", "tag": "watch"}],
    }
    rule_id = client.post("/automation/rules", json=rule, headers=admin).json()["id"]
    clock.advance(timedelta(minutes=1))
    made = [
        new_work_order(system, world.ids["site_b"], "P1"),
        new_work_order(system, world.ids["site_b"], "P3"),
        new_work_order(system, world.ids["site"], "P4"),  # gold contract: raised to P2, and gold
    ]
    predicted = client.post(f"/automation/rules/{rule_id}/dry-run", headers=admin).json()["matches"]
    assert {m["subject_id"] for m in predicted} == {made[0], made[2]}
    engine(system, "W").tick()
    fired = {(f.subject_id, f.occurrence) for f in _firings(system, "gold or urgent")}
    assert fired == {(m["subject_id"], m["occurrence"]) for m in predicted}


def test_two_subscriptions_each_get_every_event_once_through_500s_restarts_and_two_workers(
    client: TestClient, world: World, system: System, clock: FixedClock, receiver: Receiver
) -> None:
    admin = login(client, "admin")
    subs = {}
    for name in ("erp", "crm"):
        made = client.post(
            "/webhooks",
            json={"name": name, "url": receiver.url, "event_types": ["work_order.created"]},
            headers=admin,
        )
        assert made.status_code == 201
        subs[str(made.json()["id"])] = made.json()["secret"]
    receiver.script = [500, 500, 500]
    orders = [new_work_order(system, world.ids["site_b"], "P3") for _ in range(3)]
    with system.runtime.sessions() as s:  # a rolled-back change announces nothing
        s.commit = s.flush  # type: ignore[method-assign]
        create_work_order(
            ServiceContext(s, clock, Actor.system("t")),
            WorkOrderInput(title="never", site_id=world.ids["site_b"]),
        )
        s.rollback()
    first = webhooks.Deliverer(system.runtime.sessions, clock, worker="first", batch=2)
    assert sum(first.fan_out() for _ in range(10)) == 6  # two events a read
    first.deliver_due()  # two 500s
    assert first._claim()  # takes two more under its lease … and dies without sending them
    deliverers = [webhooks.Deliverer(system.runtime.sessions, clock, worker=n, batch=2) for n in ("x", "y")]
    errors: list[BaseException] = []

    def run(d: webhooks.Deliverer) -> None:
        try:
            d.fan_out()
            d.deliver_due()
        except BaseException as exc:  # reported below
            errors.append(exc)

    for _ in range(8):
        clock.advance(timedelta(minutes=3))
        threads = [threading.Thread(target=run, args=(d,)) for d in deliverers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert [r["code"] for r in receiver.received].count(500) == 3
    ok = [r for r in receiver.received if r["code"] == 200]
    got = Counter((r["headers"]["x-fieldops-subscription"], r["headers"]["x-fieldops-event-id"]) for r in ok)
    assert len(got) == 6 and set(got.values()) == {
        1
    }  # each (subscription, event) once — no dedup needed here
    for r in receiver.received:
        h = r["headers"]
        secret = subs[h["x-fieldops-subscription"]]
        ts = h["x-fieldops-timestamp"]
        assert webhooks.verify(secret, ts, r["body"], h["x-fieldops-signature"], float(ts))
        other = next(v for k, v in subs.items() if k != h["x-fieldops-subscription"])
        assert not webhooks.verify(other, ts, r["body"], h["x-fieldops-signature"], float(ts))
    per_sub = {
        sid: sorted(
            json.loads(r["body"])["subject_id"] for r in ok if r["headers"]["x-fieldops-subscription"] == sid
        )
        for sid in subs
    }
    assert all(ids == orders for ids in per_sub.values())
