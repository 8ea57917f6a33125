"""Delta sync: the phone learns what changed — including visits taken away while it was offline."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.engine import Engine

from core.store import outbox
from core.store.db import make_sessionmaker
from core.store.models import OutboxEvent
from mobile_contract.client import MobileClient
from tests.conftest import T0, truncate_all
from tests.world import PASSWORD, World

Client = TestClient


def assign(client: Client, h: dict[str, str], world: World, engineer: str, title: str) -> tuple[int, int]:
    wo = client.post("/work-orders", headers=h, json={"title": title, "site_id": world.ids["site"]}).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=h,
        json={
            "engineer_id": world.ids[engineer],
            "dispatch": True,
            "planned_start": (T0 + timedelta(hours=1)).isoformat(),
        },
    ).json()
    return wo["id"], visit["id"]


def phone(client: Client, username: str) -> MobileClient:
    app = MobileClient(client)
    app.sign_in(username, PASSWORD)
    return app


def test_sync_brings_changes_and_removals(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    h = as_dispatcher
    wo1, v1 = assign(client, h, world, "engineer", "first job")
    mine, theirs = phone(client, "engineer"), phone(client, "engineer_b")

    start = mine.sync(None)
    assert [c.visit_id for c in start.changed] == [v1]
    assert mine.sync(start.cursor).changed == []

    # While the phone is offline: a new job arrives, the first job is edited, then given to someone else.
    _, v2 = assign(client, h, world, "engineer", "second job")
    client.patch(f"/work-orders/{wo1}", headers=h, json={"description": "bring the long ladder"})
    page = mine.sync(start.cursor)
    assert {c.visit_id for c in page.changed} == {v1, v2}
    assert next(c for c in page.changed if c.visit_id == v1).job.description == "bring the long ladder"

    client.post(f"/visits/{v1}/transitions", headers=h, json={"to": "cancelled", "reason": "moved to Li"})
    client.post(f"/work-orders/{wo1}/visits", headers=h, json={"engineer_id": world.ids["engineer_b"]})
    later = mine.sync(page.cursor)
    assert later.changed == []
    assert [(r.visit_id, r.status, r.reason) for r in later.removed] == [(v1, "cancelled", "moved to Li")]
    # …and the other engineer's phone learns it has a new job (and nothing of mine).
    other = theirs.sync(start.cursor)
    assert [c.job.work_order_id for c in other.changed] == [wo1]
    assert other.removed == []
    # Syncing again from the same cursor is harmless: the same answer.
    assert mine.sync(page.cursor) == later


def test_day_plan_carries_a_cursor(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    assign(client, as_dispatcher, world, "engineer", "job")
    app = phone(client, "engineer")
    plan = app.day(T0.date())
    assert plan.sync_cursor is not None
    assert app.sync(plan.sync_cursor).changed == []


def test_a_damaged_cursor_is_a_clear_error(client: Client, world: World) -> None:
    app = phone(client, "engineer")
    assert app.session is not None
    r = client.get(
        "/mobile/v1/sync?since=abc", headers={"Authorization": f"Bearer {app.session.access_token}"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "since"


def _event(conn: sa.Connection, n: int) -> None:
    conn.execute(
        sa.insert(OutboxEvent).values(
            event_id=uuid.uuid4(),
            type="test.event",
            subject_type="test",
            subject_id=n,
            occurred_at=T0,
            data={},
        )
    )


@pytest.mark.postgres
def test_a_late_commit_is_never_skipped(postgres_x: Engine) -> None:
    """seq 1 commits after seq 2: the reader must wait for it instead of moving past it."""
    truncate_all(postgres_x)
    sessions = make_sessionmaker(postgres_x)
    slow, fast = postgres_x.connect(), postgres_x.connect()
    try:
        slow_tx = slow.begin()
        _event(slow, 1)  # takes seq 1, not committed yet
        with fast.begin():
            _event(fast, 2)  # takes seq 2, committed
        with sessions() as s:
            assert outbox.read_after(s, outbox.START) == []  # seq 2 waits behind the running transaction
            cursor = outbox.head(s)
        slow_tx.commit()
        # The horizon is cluster-wide: another database's open transaction may hold delivery back a while
        # (a delay, never a loss), so wait for it rather than assume an idle server.
        deadline = time.monotonic() + 30
        while True:
            with sessions() as s:
                delivered = [e.subject_id for e in outbox.read_after(s, cursor)]
            if len(delivered) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sorted(delivered) == [1, 2]
        with sessions() as s:
            assert outbox.read_after(s, outbox.cursor_of(outbox.read_after(s, cursor)[-1])) == []
    finally:
        slow.close()
        fast.close()
        truncate_all(postgres_x)
