"""Work orders through the real ASGI app and the real database."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient

from core.domain.clock import FixedClock
from tests.world import World, login

Client = TestClient


def new_order(client: Client, headers: dict[str, str], world: World, **overrides: object) -> dict:
    body = {
        "title": "冷水机组排气温度过高",
        "site_id": world.ids["site_b"],
        "required_skills": [{"skill": "hvac"}],
    }
    body.update(overrides)
    response = client.post("/work-orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_then_read_back(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    created = new_order(client, as_dispatcher, world, priority="P2", estimated_minutes=90)
    assert created["reference"] == f"WO-{created['id']:07d}"
    assert created["status"] == "new"
    assert created["priority"] == "P2"
    assert created["customer_id"] == world.ids["customer_b"]
    assert created["territory_id"] == world.ids["territory"]
    assert created["required_skills"] == [{"skill": "hvac", "min_level": 1}]
    # Standard tier P2: 480 business minutes from Monday 09:30 Shanghai; Monday holds 450 of them
    # (lunch excluded), so it is due Tuesday 09:30 local.
    assert created["sla"]["respond_by"] == "2026-11-24T01:30:00Z"
    assert created["sla"]["state"] == "ok"

    fetched = client.get(f"/work-orders/{created['id']}", headers=as_dispatcher)
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json() == created


def test_gold_contract_raises_priority_and_uses_its_sla(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = new_order(
        client, as_dispatcher, world, site_id=world.ids["site"], asset_id=world.ids["asset"], priority="P4"
    )
    assert wo["priority"] == "P2"  # the gold contract's floor
    assert wo["contract_id"] == world.ids["gold_contract"]
    # gold P2 = 120 business minutes from 09:30 Monday → 11:30 the same morning.
    assert wo["sla"]["respond_by"] == "2026-11-23T03:30:00Z"


def test_lifecycle_through_a_visit(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    wo = new_order(client, as_dispatcher, world)
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
    )
    assert visit.status_code == 201, visit.text
    assert client.get(f"/work-orders/{wo['id']}", headers=as_dispatcher).json()["status"] == "dispatched"

    for step in ("accepted", "en_route", "on_site"):
        clock.advance(timedelta(minutes=10))
        r = client.post(f"/visits/{visit.json()['id']}/transitions", json={"to": step}, headers=as_dispatcher)
        assert r.status_code == 200, r.text
    current = client.get(f"/work-orders/{wo['id']}", headers=as_dispatcher).json()
    assert current["status"] == "in_progress"
    assert current["sla"]["responded_at"] == "2026-11-23T02:00:00Z"

    hold = client.post(f"/work-orders/{wo['id']}/transitions", json={"to": "on_hold"}, headers=as_dispatcher)
    assert hold.status_code == 422 and hold.json()["field"] == "reason"
    hold = client.post(
        f"/work-orders/{wo['id']}/transitions",
        json={"to": "on_hold", "reason": "parts"},
        headers=as_dispatcher,
    )
    assert hold.status_code == 200 and hold.json()["sla"]["paused"] is True

    audit = client.get(f"/work-orders/{wo['id']}/audit", headers=as_dispatcher).json()
    moves = [(a["from_state"], a["to_state"]) for a in audit if a["action"] == "transitioned"]
    assert ("dispatched", "in_progress") in moves and ("in_progress", "on_hold") in moves
    assert all(a["actor"] == "dispatcher" for a in audit)


def test_illegal_transition_is_409_with_the_allowed_moves(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = new_order(client, as_dispatcher, world)
    r = client.post(f"/work-orders/{wo['id']}/transitions", json={"to": "completed"}, headers=as_dispatcher)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["current"] == "new" and problem["requested"] == "completed"
    assert problem["allowed"] == ["cancelled", "scheduled"]
    r = client.post(f"/work-orders/{wo['id']}/transitions", json={"to": "scheduled"}, headers=as_dispatcher)
    assert r.status_code == 409 and "assign" in r.json()["detail"]


def test_stale_if_match_is_412(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    wo = new_order(client, as_dispatcher, world)
    url = f"/work-orders/{wo['id']}"
    first = client.patch(url, json={"title": "first"}, headers={**as_dispatcher, "If-Match": '"1"'})
    second = client.patch(url, json={"title": "second"}, headers={**as_dispatcher, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    assert second.status_code == 412
    assert second.json()["type"] == "/problems/stale-version"
    assert client.get(url, headers=as_dispatcher).json()["title"] == "first"


def test_priority_change_recomputes_the_sla_from_creation(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    wo = new_order(client, as_dispatcher, world, priority="P4")
    clock.advance(timedelta(hours=1))
    r = client.patch(f"/work-orders/{wo['id']}", json={"priority": "P1"}, headers=as_dispatcher)
    assert r.status_code == 200
    # standard P1 = 240 business minutes from creation (09:30) → 14:30 with the lunch hour skipped.
    assert r.json()["sla"]["respond_by"] == "2026-11-23T06:30:00Z"


def test_cancel_withdraws_the_visit(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    wo = new_order(client, as_dispatcher, world)
    client.post(
        f"/work-orders/{wo['id']}/visits", headers=as_dispatcher, json={"engineer_id": world.ids["engineer"]}
    )
    r = client.post(
        f"/work-orders/{wo['id']}/transitions",
        json={"to": "cancelled", "reason": "customer fixed it"},
        headers=as_dispatcher,
    )
    assert r.status_code == 200
    assert r.json()["current_visit"] is None
    visits = client.get(f"/work-orders/{wo['id']}/visits", headers=as_dispatcher).json()
    assert [v["status"] for v in visits] == ["cancelled"]


def test_assigning_an_unqualified_engineer_says_why(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = new_order(client, as_dispatcher, world, required_skills=[{"skill": "hvac", "min_level": 5}])
    r = client.post(
        f"/work-orders/{wo['id']}/visits", headers=as_dispatcher, json={"engineer_id": world.ids["engineer"]}
    )
    assert r.status_code == 409
    assert "hvac ≥ 5 (has 4)" in r.json()["detail"]


def test_delete_only_what_nothing_refers_to(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    spare = client.post("/customers", json={"code": "SPARE", "name": "spare"}, headers=as_dispatcher).json()
    assert client.delete(f"/customers/{spare['id']}", headers=as_dispatcher).status_code == 204
    assert client.get(f"/customers/{spare['id']}", headers=as_dispatcher).status_code == 404
    busy = client.delete(f"/customers/{world.ids['customer']}", headers=as_dispatcher)
    assert busy.status_code == 409
    assert "still referenced" in busy.json()["detail"]
    assert client.get(f"/customers/{world.ids['customer']}", headers=as_dispatcher).status_code == 200
    assert client.delete(f"/sites/{world.ids['site']}", headers=login(client, "engineer")).status_code == 403
