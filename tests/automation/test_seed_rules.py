"""The two shipped rules on a controlled clock: once each, with two workers, one killed and restarted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from automation import rules
from automation.engine import WorkerKilled
from automation.models import Firing, Notification, Rule, Tag, Task
from core.domain.clock import FixedClock
from core.store.models import AuditEvent
from fieldops.wiring import System
from tests.automation.conftest import engine, new_work_order, seed
from tests.world import World, login


def _firings(system: System, name: str) -> list[Firing]:
    with system.runtime.sessions() as s:
        rule_id = s.scalar(sa.select(Rule.id).where(Rule.name == name))
        return list(s.scalars(sa.select(Firing).where(Firing.rule_id == rule_id).order_by(Firing.id)))


def _trail(system: System, wo_id: int) -> list[str]:
    with system.runtime.sessions() as s:
        return list(
            s.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_type == "work_order", AuditEvent.subject_id == wo_id)
                .order_by(AuditEvent.id)
            )
        )


def test_urgent_unhandled_fires_once_at_two_business_hours_with_a_worker_killed_midway(
    system: System, world: World, clock: FixedClock, client: TestClient
) -> None:
    seed(system, world)
    urgent = new_work_order(system, world.ids["site_b"], "P1")
    routine = new_work_order(system, world.ids["site_b"], "P3")
    handled = new_work_order(system, world.ids["site_b"], "P1")
    admin = login(client, "admin")
    r = client.post(
        f"/work-orders/{handled}/transitions", json={"to": "cancelled", "reason": "duplicate"}, headers=admin
    )
    assert r.status_code == 200, r.text
    a, b = engine(system, "A"), engine(system, "B")

    # 09:30 + 2 business hours = 11:30 (Monday, Shanghai). One minute early: nothing.
    clock.advance(timedelta(hours=1, minutes=59))
    a.tick(), b.tick()
    assert _firings(system, rules.URGENT_UNHANDLED) == []

    clock.advance(timedelta(minutes=2))
    killer = engine(system, "A", die_after_actions=1)
    with pytest.raises(WorkerKilled):
        killer.tick()  # recorded the firing, did the first action (escalate), died before notifying
    [firing] = _firings(system, rules.URGENT_UNHANDLED)
    assert firing.subject_id == urgent and firing.status == "pending" and set(firing.results) == {"0"}
    b.tick()  # the dead worker's lease still holds: B does not touch it
    assert _firings(system, rules.URGENT_UNHANDLED)[0].status == "pending"

    clock.advance(timedelta(minutes=6))  # the lease runs out
    restarted = engine(system, "A-restarted")
    for worker in (b, restarted, b, restarted):
        worker.tick()
    [firing] = _firings(system, rules.URGENT_UNHANDLED)
    assert firing.status == "done" and set(firing.results) == {"0", "1"}
    with system.runtime.sessions() as s:
        tags = set(
            s.scalars(sa.select(Tag.tag).where(Tag.subject_type == "work_order", Tag.subject_id == urgent))
        )
        notes = list(s.scalars(sa.select(Notification).where(Notification.source.like("rule:%"))))
        assert s.scalar(sa.select(sa.func.count()).select_from(Tag).where(Tag.subject_id == routine)) == 0
    assert tags == {"escalated"}
    assert [(n.username, n.work_order_id) for n in notes] == [("dispatcher", urgent)]
    trail = _trail(system, urgent)
    assert (
        trail.count("rule_fired") == 1 and trail.count("escalated") == 1 and trail.count("rule_action") == 2
    )
    assert "rule_fired" not in _trail(system, routine) and "rule_fired" not in _trail(system, handled)

    # Much later, more ticks: still once.
    clock.advance(timedelta(days=3))
    a.tick(), b.tick()
    assert len(_firings(system, rules.URGENT_UNHANDLED)) == 1
    # The supervisor sees it in their inbox.
    inbox = client.get("/automation/notifications", headers=login(client, "dispatcher")).json()
    assert len(inbox) == 1 and "WO-" in inbox[0]["subject"]


def test_business_hours_and_the_weekend_count(system: System, world: World, clock: FixedClock) -> None:
    seed(system, world)
    # Friday 2026-11-27 17:00 Shanghai: one business hour left that day, then the weekend.
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    wo = new_work_order(system, world.ids["site_b"], "P1")
    w = engine(system, "W")
    for at in (datetime(2026, 11, 27, 11, 0), datetime(2026, 11, 28, 12, 0), datetime(2026, 11, 30, 1, 59)):
        clock.set(at.replace(tzinfo=UTC))
        w.tick()
        assert _firings(system, rules.URGENT_UNHANDLED) == [], at
    clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Monday 10:00 Shanghai: 2 business hours
    w.tick()
    [firing] = _firings(system, rules.URGENT_UNHANDLED)
    assert firing.subject_id == wo and firing.status == "done"


def test_re_entering_the_state_is_a_new_occurrence(
    system: System, world: World, clock: FixedClock, client: TestClient
) -> None:
    seed(system, world)
    wo = new_work_order(system, world.ids["site_b"], "P1")
    w = engine(system, "W")
    clock.advance(timedelta(hours=3))
    w.tick()
    assert len(_firings(system, rules.URGENT_UNHANDLED)) == 1
    admin = login(client, "admin")
    r = client.post(f"/work-orders/{wo}/visits", json={"engineer_id": world.ids["engineer"]}, headers=admin)
    assert r.status_code == 201, r.text
    w.tick()
    r = client.post(
        f"/work-orders/{wo}/transitions", json={"to": "new", "reason": "engineer ill"}, headers=admin
    )
    assert r.status_code == 200, r.text
    clock.advance(timedelta(hours=1))
    w.tick()
    assert len(_firings(system, rules.URGENT_UNHANDLED)) == 1
    clock.advance(timedelta(hours=2))
    w.tick()
    assert len(_firings(system, rules.URGENT_UNHANDLED)) == 2


def _survey(client: TestClient, admin: dict[str, str], wo: int, email: str, score: int) -> None:
    r = client.post(
        "/surveys/invitations",
        json={"work_order_id": wo, "contact_email": email, "kind": "csat", "send": False},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    token = str(r.json()["url"]).rsplit("/surveys/", 1)[1]
    assert client.post(f"/surveys/{token}", json={"score": score}).status_code == 201


def test_five_stars_tags_a_promoter_and_books_a_care_call_once(
    system: System, world: World, clock: FixedClock, client: TestClient
) -> None:
    seed(system, world)
    admin = login(client, "admin")
    happy = new_work_order(system, world.ids["site_b"], "P3")
    meh = new_work_order(system, world.ids["site"], "P3")
    _survey(client, admin, happy, "a@acme.example", 5)
    _survey(client, admin, meh, "b@tower.example", 4)
    killer = engine(system, "A", die_after_actions=1)
    with pytest.raises(WorkerKilled):
        killer.tick()
    other = engine(system, "B")
    other.tick()
    clock.advance(timedelta(minutes=6))
    other.tick()
    engine(system, "A2").tick()
    [firing] = _firings(system, rules.PROMOTER)
    assert firing.status == "done" and firing.subject_id == happy
    with system.runtime.sessions() as s:
        tags = list(s.execute(sa.select(Tag.subject_type, Tag.subject_id, Tag.tag)))
        [task] = s.scalars(sa.select(Task))
    assert tags == [("customer", world.ids["customer_b"], "promoter")]
    assert task.owner == "admin" and task.kind == "care_call" and "回访" in task.title
    assert task.work_order_id == happy and task.customer_id == world.ids["customer_b"]
    # Due seven days after the rule ran (the lease expiry moved the clock 6 minutes).
    from tests.conftest import T0

    assert task.due_at == T0 + timedelta(minutes=6) + timedelta(days=7)
    mine = client.get("/tasks?owner=me", headers=admin).json()
    assert [t["id"] for t in mine] == [task.id] and mine[0]["overdue"] is False
    clock.advance(timedelta(days=8))
    overdue = client.get("/tasks?owner=admin&state=overdue", headers=admin).json()
    assert [t["id"] for t in overdue] == [task.id]
    assert (
        client.post(f"/tasks/{task.id}/done", json={"note": "called, happy"}, headers=admin).status_code
        == 200
    )
    assert client.get("/tasks?owner=me&state=overdue", headers=admin).json() == []
