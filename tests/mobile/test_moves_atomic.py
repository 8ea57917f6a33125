"""A check-in from `assigned` is accepted → en route → on site in one transaction: all or nothing.

The failure is a real one from the database (a trigger refusing the last step), not a stand-in: before,
each step committed on its own, and a failure at the last left the visit en route and half-audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.engine import Engine

from core.store.models import AuditEvent, OutboxEvent
from fieldops.wiring import System
from tests.conftest import T0
from tests.world import PASSWORD, World

TOWER = (31.2335, 121.5055)

_SQLITE = (
    "CREATE TRIGGER no_arrivals BEFORE UPDATE OF status ON visits WHEN NEW.status = 'on_site' "
    "BEGIN SELECT RAISE(ABORT, 'arrivals are refused today'); END",
)
_POSTGRES = (
    "CREATE FUNCTION no_arrivals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.status = 'on_site' THEN RAISE EXCEPTION 'arrivals are refused today'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER no_arrivals BEFORE UPDATE ON visits FOR EACH ROW EXECUTE FUNCTION no_arrivals()",
)
_DROP = {
    "sqlite": ("DROP TRIGGER IF EXISTS no_arrivals",),
    "postgresql": ("DROP TRIGGER IF EXISTS no_arrivals ON visits", "DROP FUNCTION IF EXISTS no_arrivals()"),
}


@pytest.fixture
def arrivals_refused(engine: Engine) -> Iterator[None]:
    backend = engine.dialect.name
    with engine.begin() as conn:
        for statement in _POSTGRES if backend == "postgresql" else _SQLITE:
            conn.execute(sa.text(statement))
    yield
    with engine.begin() as conn:
        for statement in _DROP[backend]:
            conn.execute(sa.text(statement))


def _trail(system: System, visit_id: int) -> tuple[list[str], list[str]]:
    with system.runtime.sessions() as s:
        audit = s.scalars(
            sa.select(AuditEvent.action + ":" + sa.func.coalesce(AuditEvent.to_state, ""))
            .where(AuditEvent.subject_type == "visit", AuditEvent.subject_id == visit_id)
            .order_by(AuditEvent.id)
        ).all()
        events = s.scalars(
            sa.select(OutboxEvent.type)
            .where(OutboxEvent.subject_type == "visit", OutboxEvent.subject_id == visit_id)
            .order_by(OutboxEvent.seq)
        ).all()
    return list(audit), list(events)


def test_a_check_in_that_fails_at_the_last_step_changes_nothing(
    client: TestClient,
    world: World,
    as_dispatcher: dict[str, str],
    system: System,
    arrivals_refused: None,
) -> None:
    wo = client.post(
        "/work-orders", headers=as_dispatcher, json={"title": "漏水", "site_id": world.ids["site"]}
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
    ).json()
    token = client.post("/mobile/v1/auth/token", json={"username": "engineer", "password": PASSWORD}).json()
    engineer = {"Authorization": f"Bearer {token['access_token']}"}
    before = _trail(system, visit["id"])

    r = client.post(
        f"/mobile/v1/visits/{visit['id']}/check-in",
        headers={**engineer, "Idempotency-Key": "arrive-1"},
        json={
            "occurred_at": (T0 - timedelta(minutes=1)).isoformat(),
            "lat": TOWER[0],
            "lon": TOWER[1],
            "accuracy_m": 10,
        },
    )
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")

    # Not accepted, not en route: exactly as before, with nothing audited or announced.
    now = client.get(f"/visits/{visit['id']}", headers=as_dispatcher).json()
    assert (now["status"], now["version"]) == ("assigned", visit["version"])
    assert _trail(system, visit["id"]) == before
    wo_now = client.get(f"/work-orders/{wo['id']}", headers=as_dispatcher).json()
    assert wo_now["status"] == "dispatched" and wo_now["sla"]["responded_at"] is None
