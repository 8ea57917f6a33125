"""End to end through the ASGI app on a real database: optimise, diff, commit, pins, moves, urgent re-plan."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from litestar.testing import TestClient

from core.store.models import OutboxEvent
from dispatch.planning.feature import DispatchFeature
from tests.world import World, login

DAY = "2026-11-23"  # T0's day (Monday) in Shanghai


def new_order(client: TestClient, auth: dict[str, str], site: int, **kw: Any) -> int:
    body = {
        "title": kw.pop("title", "Chiller noise"),
        "site_id": site,
        "required_skills": [{"skill": "hvac", "min_level": 2}],
        "estimated_minutes": 45,
        "priority": "P3",
        **kw,
    }
    r = client.post("/work-orders", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def optimise(client: TestClient, auth: dict[str, str], world: World, **kw: Any) -> dict[str, Any]:
    body = {"territory_id": world.ids["territory"], "day": DAY, "time_limit_seconds": 1, **kw}
    r = client.post("/dispatch/optimisations", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return dict(r.json())


def placed(proposal: dict[str, Any]) -> dict[int, int]:
    return {s["work_order_id"]: r["engineer_id"] for r in proposal["plan"]["routes"] for s in r["stops"]}


def events(world: World, type_: str) -> list[OutboxEvent]:
    with world.system.runtime.sessions() as s:
        return list(
            s.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.seq))
        )


def test_optimise_then_commit_creates_the_visits(
    client: TestClient, world: World, as_dispatcher: dict[str, str], zhao: int
) -> None:
    tower = [new_order(client, as_dispatcher, world.ids["site"]) for _ in range(2)]
    plant = new_order(client, as_dispatcher, world.ids["site_b"])
    lift = new_order(client, as_dispatcher, world.ids["site"], required_skills=[{"skill": "lift"}])
    p = optimise(client, as_dispatcher, world)
    assert p["status"] == "proposed"
    where = placed(p)
    assert {where[t] for t in tower} == {world.ids["engineer"]}  # 王工 lives near the tower
    assert where[plant] == zhao  # Zhao lives next to the plant
    assert [u["work_order_id"] for u in p["plan"]["unassigned"]] == [lift]
    assert p["plan"]["unassigned"][0]["reason"] == "no_qualified_engineer"  # Li (lift) has no shift
    assert sorted(p["diff"]["added"]) == sorted([*tower, plant])
    assert p["diff"]["travel_km"]["before"] == 0
    assert p["diff"]["travel_km"]["after"] > 0
    assert str(tower[0]) in p["plan"]["explanations"]
    assert client.get(f"/dispatch/optimisations/{p['id']}", headers=as_dispatcher).json()["id"] == p["id"]

    r = client.post(f"/dispatch/optimisations/{p['id']}/commit", json={}, headers=as_dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "committed"
    for wo in [*tower, plant]:
        visits = client.get(f"/work-orders/{wo}/visits", headers=as_dispatcher).json()
        assert [v["engineer_id"] for v in visits] == [where[wo]]
        visit = client.get(f"/visits/{visits[0]['id']}", headers=as_dispatcher).json()
        assert visit["status"] == "assigned"
        assert visit["planned_start"] is not None
    committed = events(world, "plan.committed")
    assert [e.data for e in committed] == [
        {
            "engineer_ids": sorted([world.ids["engineer"], zhao]),
            "territory_id": world.ids["territory"],
            "proposal_id": p["id"],
        }
    ]
    assert len(events(world, "visit.assigned")) == 3

    plan = client.get(
        f"/dispatch/plan?territory_id={world.ids['territory']}&day={DAY}", headers=as_dispatcher
    )
    assert plan.status_code == 200, plan.text
    routes = {r["engineer_id"]: r for r in plan.json()["routes"]}
    assert {s["work_order_id"] for s in routes[world.ids["engineer"]]["stops"]} == set(tower)
    assert all(s["eta"] for s in routes[zhao]["stops"])
    assert plan.json()["unplanned_work_order_ids"] == [lift]

    # The next optimisation starts from the committed plan: nothing to change.
    again = optimise(client, as_dispatcher, world)
    assert again["diff"]["added"] == [] and again["diff"]["moved"] == [] and again["diff"]["withdrawn"] == []


def test_a_stale_or_decided_proposal_is_refused(
    client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    new_order(client, as_dispatcher, world.ids["site"])
    p = optimise(client, as_dispatcher, world)
    new_order(client, as_dispatcher, world.ids["site"], title="Arrived meanwhile")
    r = client.post(f"/dispatch/optimisations/{p['id']}/commit", headers=as_dispatcher)
    assert r.status_code == 412, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "optimise again" in r.json()["detail"]
    assert events(world, "visit.assigned") == []

    q = optimise(client, as_dispatcher, world)
    assert client.post(f"/dispatch/optimisations/{q['id']}/discard", headers=as_dispatcher).status_code == 200
    r = client.post(f"/dispatch/optimisations/{q['id']}/commit", headers=as_dispatcher)
    assert r.status_code == 409, r.text


def test_pins_are_kept_by_the_next_optimisation(
    client: TestClient, world: World, as_dispatcher: dict[str, str], zhao: int
) -> None:
    wo = new_order(client, as_dispatcher, world.ids["site"])
    assert placed(optimise(client, as_dispatcher, world))[wo] == world.ids["engineer"]
    r = client.put(f"/dispatch/pins/{wo}", json={"engineer_id": zhao}, headers=as_dispatcher)
    assert r.status_code == 200, r.text
    assert placed(optimise(client, as_dispatcher, world))[wo] == zhao
    assert client.delete(f"/dispatch/pins/{wo}", headers=as_dispatcher).status_code == 204
    assert placed(optimise(client, as_dispatcher, world))[wo] == world.ids["engineer"]


def test_a_pin_to_an_unqualified_engineer_is_refused(
    client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = new_order(client, as_dispatcher, world.ids["site"])
    r = client.put(
        f"/dispatch/pins/{wo}", json={"engineer_id": world.ids["engineer_b"]}, headers=as_dispatcher
    )
    assert r.status_code == 409
    assert "lacks the skills" in r.json()["detail"]
    r = client.put(f"/dispatch/pins/{wo}", json={}, headers=as_dispatcher)
    assert r.status_code == 422


def test_a_move_by_hand_follows_the_rules(
    client: TestClient, world: World, as_dispatcher: dict[str, str], zhao: int
) -> None:
    wo = new_order(client, as_dispatcher, world.ids["site"])
    r = client.post("/dispatch/moves", json={"work_order_id": wo, "engineer_id": zhao}, headers=as_dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["engineer_id"] == zhao and r.json()["pinned"] is True
    visits = client.get(f"/work-orders/{wo}/visits", headers=as_dispatcher).json()
    assert [(v["engineer_id"], v["status"]) for v in visits] == [(zhao, "assigned")]
    # Moving it on to 王工 withdraws Zhao's visit through the lifecycle.
    r = client.post(
        "/dispatch/moves",
        json={"work_order_id": wo, "engineer_id": world.ids["engineer"]},
        headers=as_dispatcher,
    )
    assert r.status_code == 200, r.text
    visits = client.get(f"/work-orders/{wo}/visits", headers=as_dispatcher).json()
    assert [(v["engineer_id"], v["status"]) for v in visits] == [
        (zhao, "cancelled"),
        (world.ids["engineer"], "assigned"),
    ]
    # Too late for today's shift: refused with the reason, as a problem naming the rule.
    late = new_order(
        client,
        as_dispatcher,
        world.ids["site"],
        windows=[{"start": "2026-11-23T19:00:00+08:00", "end": "2026-11-23T20:00:00+08:00"}],
    )
    r = client.post(
        "/dispatch/moves", json={"work_order_id": late, "engineer_id": zhao}, headers=as_dispatcher
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "window_unreachable" in r.json()["detail"]
    r = client.post(
        "/dispatch/moves",
        json={"work_order_id": wo, "engineer_id": world.ids["engineer_b"]},
        headers=as_dispatcher,
    )
    assert r.status_code == 409
    assert "lacks the skills" in r.json()["detail"]


def test_an_urgent_work_order_is_placed_within_seconds(
    client: TestClient, world: World, as_dispatcher: dict[str, str], zhao: int
) -> None:
    routine = [new_order(client, as_dispatcher, world.ids["site"]) for _ in range(3)]
    p = optimise(client, as_dispatcher, world)
    assert client.post(f"/dispatch/optimisations/{p['id']}/commit", headers=as_dispatcher).status_code == 200
    before = placed(p)
    feature = world.system.runtime.features["dispatch"]
    assert isinstance(feature, DispatchFeature)
    stop = feature.replanner.start()
    try:
        t0 = time.monotonic()
        urgent = new_order(client, as_dispatcher, world.ids["site_b"], priority="P1", source="telemetry")
        assigned: list[OutboxEvent] = []
        while time.monotonic() - t0 < 20 and not assigned:
            time.sleep(0.2)
            assigned = [e for e in events(world, "visit.assigned") if e.data["work_order_id"] == urgent]
        elapsed = time.monotonic() - t0
    finally:
        stop()
    assert assigned, "the urgent work order was not placed"
    assert elapsed < 10
    visits = client.get(f"/work-orders/{urgent}/visits", headers=as_dispatcher).json()
    assert len(visits) == 1 and visits[0]["status"] == "assigned"
    nudges = events(world, "plan.committed")
    assert len(nudges) == 2
    assert visits[0]["engineer_id"] in nudges[-1].data["engineer_ids"]
    # Minimal disruption: the routine work stays with its engineers.
    for wo in routine:
        now = client.get(f"/work-orders/{wo}/visits", headers=as_dispatcher).json()
        assert [v["engineer_id"] for v in now if v["status"] == "assigned"] == [before[wo]]


def test_planning_needs_the_plans_permissions(client: TestClient, world: World) -> None:
    body = {"territory_id": world.ids["territory"], "day": DAY}
    assert client.post("/dispatch/optimisations", json=body).status_code == 401
    engineer = login(client, "engineer")
    assert client.post("/dispatch/optimisations", json=body, headers=engineer).status_code == 403
    assert client.get(f"/dispatch/plan?territory_id=1&day={DAY}", headers=engineer).status_code == 403


def test_the_time_limit_is_capped_by_the_setting(
    client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    body = {"territory_id": world.ids["territory"], "day": DAY, "time_limit_seconds": 300}
    r = client.post("/dispatch/optimisations", json=body, headers=as_dispatcher)
    assert r.status_code == 422
    assert "time_limit_seconds" in r.text
    r = client.post(
        "/dispatch/optimisations",
        json={"territory_id": 999, "day": DAY, "time_limit_seconds": 1},
        headers=as_dispatcher,
    )
    assert r.status_code == 422
    assert "territory_id" in r.text
