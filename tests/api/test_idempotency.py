"""Idempotency-Key: a replay returns the first answer and changes nothing; a reused key is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar.testing import TestClient

from api.idempotency import _fingerprint
from core.store.models import IdempotencyRecord, User
from fieldops.wiring import System
from tests.conftest import T0
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


def _record(system: System, key: str) -> IdempotencyRecord:
    with system.runtime.sessions() as s:
        return s.scalars(sa.select(IdempotencyRecord).where(IdempotencyRecord.key == key)).one()


def _age(system: System, key: str, **values: object) -> None:
    """What a crash leaves behind: the claim's answer never stored, its lease long gone."""
    with system.runtime.sessions() as s:
        s.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.key == key)
            .values(created_at=T0 - timedelta(hours=1), completed_at=None, **values)
        )
        s.commit()


def test_the_change_and_its_applied_mark_share_a_transaction(
    client: Client, world: World, as_dispatcher: dict[str, str], system: System
) -> None:
    ok = {**as_dispatcher, "Idempotency-Key": "applied-1"}
    assert (
        client.post("/work-orders", json={"title": "x", "site_id": world.ids["site"]}, headers=ok).status_code
        == 201
    )
    assert _record(system, "applied-1").applied_at is not None
    refused = {**as_dispatcher, "Idempotency-Key": "applied-2"}
    assert client.post("/work-orders", json={"title": ""}, headers=refused).status_code == 400
    assert _record(system, "applied-2").applied_at is None  # stored and replayed, but nothing was changed


def test_a_claim_abandoned_before_it_changed_anything_is_taken_over(
    client: Client, world: World, as_dispatcher: dict[str, str], system: System
) -> None:
    h = {**as_dispatcher, "Idempotency-Key": "died-early", "content-type": "application/json"}
    body = msgspec.json.encode({"title": "after the crash", "site_id": world.ids["site"]})
    # The server died after claiming the key and before the change: the record says nothing was applied.
    scope: Any = {"method": "POST", "path": "/work-orders", "query_string": b"", "headers": []}
    with system.runtime.sessions() as s:
        dispatcher = s.scalars(sa.select(User.id).where(User.username == "dispatcher")).one()
        s.add(
            IdempotencyRecord(
                user_id=dispatcher,
                key="died-early",
                method="POST",
                path="/work-orders",
                fingerprint=_fingerprint(scope, body),
                created_at=T0,
            )
        )
        s.commit()
    still_running = client.post("/work-orders", content=body, headers=h)
    assert still_running.status_code == 409 and still_running.json()["type"] == "/problems/idempotency"
    _age(system, "died-early")
    retried = client.post("/work-orders", content=body, headers=h)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    again = client.post("/work-orders", content=body, headers=h)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == retried.json()
    assert count(client, as_dispatcher) == 1


def test_a_request_applied_whose_answer_was_lost_is_never_run_again(
    client: Client, world: World, as_dispatcher: dict[str, str], system: System
) -> None:
    h = {**as_dispatcher, "Idempotency-Key": "died-late"}
    body = {"title": "applied", "site_id": world.ids["site"]}
    assert client.post("/work-orders", json=body, headers=h).status_code == 201
    _age(system, "died-late")  # the commit happened; the answer was never stored
    replay = client.post("/work-orders", json=body, headers=h)
    assert replay.status_code == 409 and replay.json()["type"] == "/problems/idempotency-applied"
    assert count(client, as_dispatcher) == 1
