"""Rules through the API: validation naming the field, versions, disabling, dry run == live run, failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from automation import definition
from automation.models import Firing
from core.domain.clock import FixedClock
from core.store.models import AuditEvent, OutboxEvent
from fieldops.wiring import System
from tests.automation.conftest import engine, new_work_order
from tests.world import World, login

GOOD: dict[str, Any] = {
    "name": "P2 waiting",
    "trigger": {"time": {"in_state": "new", "for": {"hours": 1}}},
    "conditions": {"all": [{"field": "work_order.priority", "op": "lte", "value": "P2"}]},
    "actions": [{"type": "add_comment", "text": "waiting: {work_order.reference}"}],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger": {"event": "work_order.exploded"}}, "trigger.event"),
        ({"trigger": {"time": {"in_state": "new", "for": {"hours": -2}}}}, "trigger.time.for.hours"),
        ({"trigger": {"time": {"in_state": "new", "for": {"fortnights": 1}}}}, "trigger.time.for.fortnights"),
        ({"trigger": {"time": {"in_state": "new", "for": {"days": 400}}}}, "trigger.time.for.days"),
        ({"trigger": {"time": {"in_state": "new"}}}, "trigger.time.for"),
        ({"trigger": {"time": {"in_state": "closed", "for": {"hours": 1}}}}, "trigger.time.in_state"),
        ({"trigger": {"time": {"in_state": "limbo", "for": {"hours": 1}}}}, "trigger.time.in_state"),
        (
            {"conditions": {"all": [{"field": "work_order.colour", "op": "eq", "value": 1}]}},
            "conditions.all[0].field",
        ),
        (
            {"conditions": {"any": [{"field": "event.rating", "op": "eq", "value": "five"}]}},
            "conditions.any[0].value",
        ),
        (
            {"conditions": {"all": [{"field": "work_order.priority", "op": "eq", "value": "P9"}]}},
            "conditions.all[0].value",
        ),
        (
            {"conditions": {"all": [{"field": "customer.tags", "op": "gt", "value": "x"}]}},
            "conditions.all[0].op",
        ),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "launch_rocket"}]}, "actions[0].type"),
        ({"actions": [{"type": "notify", "to": "everyone", "message": "hi"}]}, "actions[0].to"),
        (
            {
                "actions": [
                    {
                        "type": "create_task",
                        "title": "x",
                        "owner": "role:account_owner",
                        "due_in": {"days": -1},
                    }
                ]
            },
            "actions[0].due_in.days",
        ),
        ({"actions": [{"type": "add_comment", "text": "{work_order.shoe_size}"}]}, "actions[0].text"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_field(
    client: TestClient, world: World, change: dict[str, Any], field: str
) -> None:
    admin = login(client, "admin")
    r = client.post("/automation/rules", json={**GOOD, **change}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


def test_rules_are_versioned_disabled_and_admin_only(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin, dispatcher = login(client, "admin"), login(client, "dispatcher")
    assert client.post("/automation/rules", json=GOOD, headers=dispatcher).status_code == 403
    r = client.post("/automation/rules", json=GOOD, headers=admin)
    assert r.status_code == 201 and r.headers["etag"] == '"1"'
    rule = r.json()
    assert client.post("/automation/rules", json=GOOD, headers=admin).status_code == 409
    changed = {**GOOD, "trigger": {"time": {"in_state": "new", "for": {"hours": 2}}}}
    r = client.put(f"/automation/rules/{rule['id']}", json=changed, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = client.put(f"/automation/rules/{rule['id']}", json=GOOD, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.get("/automation/rules", headers=dispatcher).status_code == 200
    versions = client.get(f"/automation/rules/{rule['id']}/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["definition"]["trigger"]["time"]["for"] == {"hours": 1}

    wo = new_work_order(system, world.ids["site_b"], "P2")
    assert client.post(f"/automation/rules/{rule['id']}/disable", headers=admin).json()["enabled"] is False
    clock.advance(timedelta(hours=3))
    engine(system, "W").tick()
    assert client.get("/automation/firings", headers=admin).json() == []
    client.post(f"/automation/rules/{rule['id']}/enable", headers=admin)
    engine(system, "W").tick()
    [firing] = client.get("/automation/firings", headers=admin).json()
    assert firing["subject_id"] == wo and firing["rule_version"] == 4 and firing["status"] == "done"
    with system.runtime.sessions() as s:
        comments = list(s.scalars(sa.select(AuditEvent.reason).where(AuditEvent.action == "comment")))
    assert comments == [f"waiting: WO-{wo:07d}"]


def test_a_dry_run_matches_what_the_live_run_then_does(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    created = [new_work_order(system, world.ids["site_b"], p) for p in ("P1", "P2", "P3", "P1")]
    clock.advance(timedelta(minutes=30))
    late = new_work_order(system, world.ids["site_b"], "P1")
    r = client.post(
        f"/work-orders/{created[3]}/transitions", json={"to": "cancelled", "reason": "dup"}, headers=admin
    )
    assert r.status_code == 200
    rule = {
        "name": "urgent waiting 3h",
        "trigger": {"time": {"in_state": "new", "for": {"business_hours": 3}}},
        "conditions": {"all": [{"field": "work_order.priority", "op": "in", "value": ["P1", "P2"]}]},
        "actions": [{"type": "add_tag", "tag": "slow"}],
    }
    rule_id = client.post("/automation/rules", json=rule, headers=admin).json()["id"]
    clock.advance(timedelta(hours=3, minutes=10))  # 09:30 → 13:10: 2h40 business for the first ones
    assert client.post(f"/automation/rules/{rule_id}/dry-run", headers=admin).json()["count"] == 0
    clock.advance(timedelta(minutes=30))  # 13:40: 3h10 for the first ones, 2h40 for the late one
    draft = client.post(
        "/automation/rules/dry-run", json={k: rule[k] for k in ("trigger", "conditions")}, headers=admin
    )
    saved = client.post(f"/automation/rules/{rule_id}/dry-run", headers=admin).json()
    assert draft.status_code == 200
    predicted = {(m["subject_id"], m["occurrence"]) for m in saved["matches"]}
    assert {m["subject_id"] for m in draft.json()["matches"]} == {created[0], created[1]}
    assert not any(m["already_fired"] for m in saved["matches"])
    engine(system, "A").tick()
    with system.runtime.sessions() as s:
        fired = {
            (f.subject_id, f.occurrence)
            for f in s.scalars(sa.select(Firing).where(Firing.rule_id == rule_id))
        }
    assert fired == predicted and late not in {wo for wo, _ in fired}
    again = client.post(f"/automation/rules/{rule_id}/dry-run", headers=admin).json()["matches"]
    assert all(m["already_fired"] for m in again)


def test_a_dry_run_of_an_event_rule_replays_the_window(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    old = new_work_order(system, world.ids["site_b"], "P1")
    clock.advance(timedelta(days=31))
    recent = new_work_order(system, world.ids["site_b"], "P1")
    new_work_order(system, world.ids["site_b"], "P4")
    body = {
        "trigger": {"event": "work_order.created"},
        "conditions": {"all": [{"field": "work_order.priority", "op": "eq", "value": "P1"}]},
    }
    matches = client.post("/automation/rules/dry-run", json=body, headers=admin).json()["matches"]
    assert [m["subject_id"] for m in matches] == [recent] and old != recent


def test_a_failing_action_is_retried_then_reported_never_skipped(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    rule = {
        "name": "tell the supervisor",
        "trigger": {"event": "work_order.created"},
        "actions": [
            {"type": "add_tag", "tag": "seen"},
            {"type": "notify", "to": "role:supervisor", "message": "new: {work_order.reference}"},
        ],
    }
    rule_id = client.post("/automation/rules", json=rule, headers=admin).json()["id"]
    wo = new_work_order(system, world.ids["site_b"], "P3")
    w = engine(system, "W", max_attempts=3)
    for _ in range(3):
        w.tick()
        clock.advance(timedelta(hours=5))
    [firing] = client.get("/automation/firings?status=failed", headers=admin).json()
    assert firing["attempts"] == 3 and "nobody is the supervisor" in firing["last_error"]
    assert set(firing["results"]) == {"0"}  # the tag stays done
    with system.runtime.sessions() as s:
        trail = list(
            s.scalars(
                sa.select(AuditEvent.action).where(
                    AuditEvent.subject_id == wo, AuditEvent.subject_type == "work_order"
                )
            )
        )
        reported = s.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.type == "automation.firing_failed")
        )
    assert trail.count("rule_action_failed") == 2 and trail.count("rule_failed") == 1 and reported == 1
    # Fix the cause, retry by hand: the remaining action runs, the done one is not repeated.
    client.put("/automation/assignees", json={"role": "supervisor", "username": "dispatcher"}, headers=admin)
    assert client.post(f"/automation/firings/{firing['id']}/retry", headers=admin).status_code == 200
    w.tick()
    [done] = client.get(f"/automation/firings?rule_id={rule_id}", headers=admin).json()
    assert done["status"] == "done" and set(done["results"]) == {"0", "1"}
    assert client.get(f"/automation/tags?subject_type=work_order&subject_id={wo}", headers=admin).json() == [
        "seen"
    ]


def test_two_workers_in_parallel_fire_each_once(
    system: System, world: World, clock: FixedClock, client: TestClient
) -> None:
    import threading

    admin = login(client, "admin")
    client.post(
        "/automation/rules",
        json={
            "name": "every new order",
            "trigger": {"event": "work_order.created"},
            "actions": [{"type": "add_tag", "tag": "seen"}, {"type": "add_comment", "text": "hello"}],
        },
        headers=admin,
    )
    ids = [new_work_order(system, world.ids["site_b"], "P3") for _ in range(12)]
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            w = engine(system, name, batch=3)
            for _ in range(8):
                w.tick()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with system.runtime.sessions() as s:
        rows = s.execute(sa.select(Firing.subject_id, Firing.status)).all()
        comments = s.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "comment")
        )
    assert sorted(r[0] for r in rows) == ids and {r[1] for r in rows} == {"done"}
    assert comments == len(ids)


FIELD_VALUES = {
    "work_order.priority": st.sampled_from(definition.PRIORITIES),
    "event.rating": st.integers(1, 5),
    "work_order.status": st.sampled_from(definition.STATUSES),
}


@st.composite
def condition(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FIELD_VALUES)))
    op = draw(st.sampled_from(["eq", "ne"] + (["lt", "gte"] if name != "work_order.status" else [])))
    return {"field": name, "op": op, "value": draw(FIELD_VALUES[name])}


@settings(max_examples=200, deadline=None)
@given(
    conds=st.lists(condition(), min_size=1, max_size=5),
    mode=st.sampled_from(["all", "any"]),
    facts=st.fixed_dictionaries(dict(FIELD_VALUES.items())),
)
def test_all_and_any_mean_what_they_say(
    conds: list[dict[str, Any]], mode: str, facts: dict[str, Any]
) -> None:
    parsed = definition.parse({"event": "survey.answered"}, {mode: conds}, [{"type": "add_tag", "tag": "x"}])

    def one(c: dict[str, Any]) -> bool:
        a, b = facts[c["field"]], c["value"]
        if c["field"] == "work_order.priority":
            a, b = int(a[1]), int(b[1])
        return {"eq": a == b, "ne": a != b, "lt": a < b, "gte": a >= b}[c["op"]]

    expected = all(map(one, conds)) if mode == "all" else any(map(one, conds))
    assert definition.matches(parsed.conditions, facts) == expected


def test_orders_whose_conditions_fail_do_not_starve_the_rest(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    admin = login(client, "admin")
    client.post("/automation/rules", json={**GOOD, "name": "P2 or better"}, headers=admin)
    for _ in range(25):
        new_work_order(system, world.ids["site_b"], "P4")
    urgent = new_work_order(system, world.ids["site_b"], "P2")
    clock.advance(timedelta(hours=2))
    engine(system, "W", batch=1).tick()  # pages of 10 candidates
    [firing] = client.get("/automation/firings", headers=admin).json()
    assert firing["subject_id"] == urgent


def test_the_batch_facts_equal_the_single_ones(client: TestClient, world: World, system: System) -> None:
    from automation import people
    from automation.facts import facts_for_many, work_order_facts
    from core.services.context import Actor, ServiceContext
    from core.store.models import WorkOrder

    admin = login(client, "admin")
    ids = [new_work_order(system, world.ids["site"], "P3"), new_work_order(system, world.ids["site_b"], "P1")]
    client.post(f"/work-orders/{ids[0]}/visits", json={"engineer_id": world.ids["engineer"]}, headers=admin)
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, system.runtime.clock, Actor.system("t"))
        people.add_tag(ctx, "work_order", ids[1], "vip")
        people.add_tag(ctx, "customer", world.ids["customer"], "promoter")
        s.commit()
        now = system.runtime.clock.now()
        many = facts_for_many(s, ids, now)
        for wo_id in ids:
            assert many[wo_id] == work_order_facts(s, s.get_one(WorkOrder, wo_id), now)
    assert many[ids[0]]["work_order.has_engineer"] is True and many[ids[1]]["work_order.tags"] == ["vip"]


@settings(max_examples=150, deadline=None)
@given(
    minutes=st.integers(1, 60 * 40),
    offset=st.integers(0, 60 * 24 * 21),
)
def test_latest_start_agrees_with_adding_business_minutes(minutes: int, offset: int) -> None:
    """The SQL cut-off for business-time rules is exactly where add_business_minutes reaches `now`."""
    from datetime import UTC, datetime

    from automation.engine import latest_start
    from core.domain.calendar import BusinessCalendar
    from tests.world import SHANGHAI_CALENDAR

    cal = BusinessCalendar.from_dict(SHANGHAI_CALENDAR)
    now = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=offset)
    cut = latest_start(cal, now, minutes)
    assert cal.add_business_minutes(cut - timedelta(seconds=1), minutes) <= now
    assert cal.add_business_minutes(cut + timedelta(seconds=1), minutes) > now
