"""Idempotency-Key: a replay returns the first answer and changes nothing; a reused key is refused."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.world import World, login

Client = TestClient


def count(client: Client, h: dict[str, str]) -> int:
    return len(client.get("/work-orders?limit=500", headers=h).json()["items"])


def test_replay_returns_the_stored_response_and_creates_nothing(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    h = {**as_dispatcher, "Idempotency-Key": "offline-queue-0001"}
    body = {"title": "replayed", "site_id": world.ids["site"]}
    first = client.post("/work-orders", json=body, headers=h)
    again = client.post("/work-orders", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert count(client, as_dispatcher) == 1


def test_a_transition_replayed_twice_moves_once(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = client.post(
        "/work-orders", json={"title": "t", "site_id": world.ids["site"]}, headers=as_dispatcher
    ).json()
    h = {**as_dispatcher, "Idempotency-Key": "cancel-1"}
    move = {"to": "cancelled", "reason": "customer called"}
    assert client.post(f"/work-orders/{wo['id']}/transitions", json=move, headers=h).status_code == 200
    replay = client.post(f"/work-orders/{wo['id']}/transitions", json=move, headers=h)
    # Without the key this would be a 409 (cancelled is final); with it, the first answer comes back.
    assert replay.status_code == 200
    audit = client.get(f"/work-orders/{wo['id']}/audit", headers=as_dispatcher).json()
    assert [a["to_state"] for a in audit if a["action"] == "transitioned"] == ["cancelled"]


def test_same_key_different_request_is_refused(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    h = {**as_dispatcher, "Idempotency-Key": "k-42"}
    assert (
        client.post("/work-orders", json={"title": "a", "site_id": world.ids["site"]}, headers=h).status_code
        == 201
    )
    other = client.post("/work-orders", json={"title": "b", "site_id": world.ids["site"]}, headers=h)
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert count(client, as_dispatcher) == 1


def test_keys_belong_to_their_user(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    body = {"title": "mine", "site_id": world.ids["site"]}
    client.post("/work-orders", json=body, headers={**as_dispatcher, "Idempotency-Key": "shared"})
    admin = login(client, "admin")
    theirs = client.post("/work-orders", json=body, headers={**admin, "Idempotency-Key": "shared"})
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert count(client, as_dispatcher) == 2


def test_failed_validation_is_stored_and_replayed_too(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    h = {**as_dispatcher, "Idempotency-Key": "bad-1"}
    first = client.post("/work-orders", json={"title": ""}, headers=h)
    again = client.post("/work-orders", json={"title": ""}, headers=h)
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_oversized_key_is_rejected(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    r = client.post(
        "/work-orders",
        json={"title": "x", "site_id": world.ids["site"]},
        headers={**as_dispatcher, "Idempotency-Key": "k" * 201},
    )
    assert r.status_code == 400
    assert count(client, as_dispatcher) == 0
