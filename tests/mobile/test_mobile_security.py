"""Who may do what on the finishing steps, and the worst inputs: each refused cleanly, nothing half stored."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from core.domain.clock import FixedClock
from fieldwork.storage import LocalBlobStore
from inventory import movements
from inventory.lines import PartLine
from inventory.models import Part, StockLevel, StockLocation
from mobile_contract import wire
from mobile_contract.client import MobileApiError, MobileClient
from tests.inventory.helpers import FILTER, Stock
from tests.mobile.conftest import png
from tests.world import PASSWORD, World, login


def test_a_dispatcher_token_cannot_work_a_visit_from_the_app(
    on_site: dict,
    client: TestClient,
    clock: FixedClock,
) -> None:
    vid = on_site["visit"]["id"]
    dispatcher = login(client, "dispatcher")
    for path, body in (
        (f"/mobile/v1/visits/{vid}/sign-off", {"occurred_at": clock.now().isoformat(), "signer_name": "x"}),
        (
            f"/mobile/v1/visits/{vid}/work-done",
            {"occurred_at": clock.now().isoformat(), "resolution_code": "fixed"},
        ),
        (f"/mobile/v1/visits/{vid}/parts/consume", {"occurred_at": clock.now().isoformat(), "lines": []}),
    ):
        response = client.post(path, headers=dispatcher, json=body)
        assert response.status_code == 403, (path, response.text)


def test_another_engineer_sees_nothing_of_my_visit(
    on_site: dict, client: TestClient, clock: FixedClock
) -> None:
    vid = on_site["visit"]["id"]
    other = MobileClient(client)
    other.sign_in("engineer_b", PASSWORD)
    for call in (
        lambda: other.checklist(vid),
        lambda: other.time_entries(vid),
        lambda: other.add_note(vid, wire.NewNote(occurred_at=clock.now(), text="hi")),
        lambda: other.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="fixed")),
        lambda: other.edit_time_entry(
            vid,
            "travel",
            wire.TimeEntryEdit(started_at=clock.now() - timedelta(hours=1), ended_at=clock.now(), reason="x"),
        ),
    ):
        with pytest.raises(MobileApiError) as err:
            call()
        assert err.value.status == 404
        # The answer names no customer, site or job of someone else.
        assert "冷水机组" not in str(err.value.problem)


def test_a_200_mb_upload_is_refused_without_being_read_whole(on_site: dict, client: TestClient) -> None:
    app: MobileClient = on_site["app"]
    assert app.session is not None
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        chunk = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 - 3)
        for _ in range(200):
            sent += len(chunk)
            yield chunk

    response = client.post(
        f"/mobile/v1/visits/{on_site['visit']['id']}/photos",
        headers={
            "Authorization": f"Bearer {app.session.access_token}",
            "Content-Type": "multipart/form-data; boundary=xyz",
            "Content-Length": str(200 * 1024 * 1024),
        },
        content=body(),
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    record = client.get(
        f"/work-orders/{on_site['wo']['id']}/record", headers=login(client, "dispatcher")
    ).json()
    assert record["photos"] == []


def test_an_engineer_cannot_take_from_or_fill_another_engineers_van(
    on_site: dict, client: TestClient, clock: FixedClock, stock: Stock
) -> None:
    """Naming another engineer's van is as if it did not exist: refused, its stock untouched, unnamed."""
    ctx = stock.ctx()
    with ctx.session:
        movements.receive(
            ctx,
            movements.ReceiveInput(location_id=stock.ids["van_b"], lines=[PartLine(sku=FILTER, quantity=3)]),
        )
        van_b = ctx.session.get_one(StockLocation, stock.ids["van_b"])
        secrets = (van_b.code, van_b.name)
    app: MobileClient = on_site["app"]
    assert app.session is not None
    me = {"Authorization": f"Bearer {app.session.access_token}"}
    vid = on_site["visit"]["id"]
    body = {"occurred_at": clock.now().isoformat(), "lines": [{"sku": FILTER}], "location_id": van_b.id}
    for path in ("parts/consume", "parts/return"):
        response = client.post(f"/mobile/v1/visits/{vid}/{path}", headers=me, json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == "location_id"
        assert not any(secret in response.text for secret in secrets)
    with stock.ctx().session as s:
        assert _on_hand(s, van_b.id) == {FILTER: 3}
    record = client.get(f"/work-orders/{on_site['wo']['id']}/record", headers=login(client, "dispatcher"))
    assert record.json()["parts_used"] == []


def test_a_signature_without_a_signer_stores_nothing(
    on_site: dict, client: TestClient, clock: FixedClock, world: World
) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    app.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="fixed"))
    blobs_before = _blob_files(world)
    with pytest.raises(MobileApiError) as err:
        app.sign_off(
            vid,
            wire.SignOffBody(
                occurred_at=clock.now(), signer_name=None, signature_png=base64.b64encode(png()).decode()
            ),
        )
    assert err.value.status == 422 and err.value.problem["field"] == "signer_name"
    dispatcher = login(client, "dispatcher")
    visit = client.get(f"/visits/{vid}", headers=dispatcher).json()
    assert visit["status"] == "work_done"
    job = client.get(f"/work-orders/{on_site['wo']['id']}/record", headers=dispatcher).json()
    assert job["visits"][0]["settlement"] is None
    assert _blob_files(world) == blobs_before  # the signature image was not kept either


def _on_hand(session: Session, location_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Part.sku, StockLevel.on_hand)
        .join(Part, Part.id == StockLevel.part_id)
        .where(StockLevel.location_id == location_id, StockLevel.on_hand > 0)
    )
    return dict(rows.tuples().all())


def _blob_files(world: World) -> list[Path]:
    blobs = world.system.runtime.blobs
    assert isinstance(blobs, LocalBlobStore)
    return sorted(p for p in blobs.root.rglob("*") if p.is_file()) if blobs.root.exists() else []
