"""API tokens (scoped, revocable, shown once) and the ERP export + idempotent inbound confirmation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from core.store.models import AuditEvent
from tests.conftest import T0
from tests.inventory.helpers import FILTER, build_stock
from tests.world import World, login


def _consume(client: TestClient, h: dict[str, str], world: World, van: int, qty: int) -> int:
    r = client.post(
        "/stock/receipts", json={"location_id": van, "lines": [{"sku": FILTER, "quantity": qty}]}, headers=h
    )
    assert r.status_code in (200, 201), r.text
    wo = client.post(
        "/work-orders", json={"title": "滤网更换", "site_id": world.ids["site"]}, headers=h
    ).json()["id"]
    client.post(f"/work-orders/{wo}/visits", json={"engineer_id": world.ids["engineer"]}, headers=h)
    r = client.post(
        "/stock/consumptions",
        json={"work_order_id": wo, "lines": [{"sku": FILTER, "quantity": qty}]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return int(wo)


def test_tokens_are_shown_once_scoped_and_revocable(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    assert (
        client.post(
            "/integrations/tokens",
            json={"name": "x", "scopes": ["erp.export"]},
            headers=login(client, "dispatcher"),
        ).status_code
        == 403
    )
    bad = client.post("/integrations/tokens", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status_code == 400 and bad.json()["field"].startswith("scopes")
    made = client.post("/integrations/tokens", json={"name": "SAP", "scopes": ["erp.export"]}, headers=admin)
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("fo_") and all(
        "token" not in t for t in client.get("/integrations/tokens", headers=admin).json()
    )
    url = "/integrations/v1/erp/exports/stock-issues"
    period = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
    assert client.get(url, params=period).status_code == 401
    assert client.get(url, params=period, headers={"Authorization": "Bearer fo_nope_nope"}).status_code == 401
    assert client.get(url, params=period, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    confirm = client.post(
        "/integrations/v1/erp/confirmations",
        json={"document_id": "x", "kind": "stock_issue", "erp_reference": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert confirm.status_code == 403  # no erp.confirm scope
    client.post(f"/integrations/tokens/{made.json()['id']}/revoke", headers=admin)
    assert client.get(url, params=period, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    [listed] = client.get("/integrations/tokens", headers=admin).json()
    assert listed["revoked_at"] is not None and listed["last_used_at"] is not None


def test_erp_export_per_period_and_confirmations_are_idempotent(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    stock = build_stock(world)
    h = login(client, "admin")
    first = _consume(client, h, world, stock.ids["van"], 2)
    clock.advance(timedelta(days=2))
    second = _consume(client, h, world, stock.ids["van"], 1)
    token = client.post(
        "/integrations/tokens", json={"name": "ERP", "scopes": ["erp.export", "erp.confirm"]}, headers=h
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    day1 = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
    docs = client.get("/integrations/v1/erp/exports/stock-issues", params=day1, headers=auth).json()[
        "documents"
    ]
    assert [(d["work_order_id"], d["lines"], d["erp_status"]) for d in docs] == [
        (first, [{"sku": FILTER, "quantity": 2}], "unconfirmed")
    ]
    both = {"from": T0.isoformat(), "to": (T0 + timedelta(days=3)).isoformat(), "format": "csv"}
    text = client.get(
        "/erp/exports/stock-issues".replace("/erp", "/integrations/erp"), params=both, headers=h
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["work_order_id"]), r["sku"], r["quantity"]) for r in rows] == [
        (first, FILTER, "2"),
        (second, FILTER, "1"),
    ]
    empty = client.get("/integrations/erp/exports/invoice-drafts", params=both, headers=h)
    assert (
        empty.text.splitlines()[0].startswith("document_id,occurred_at") and len(empty.text.splitlines()) == 1
    )

    body = {"document_id": docs[0]["document_id"], "kind": "stock_issue", "erp_reference": "MIGO-4711"}
    r1 = client.post("/integrations/v1/erp/confirmations", json=body, headers=auth)
    r2 = client.post("/integrations/v1/erp/confirmations", json=body, headers=auth)
    assert (r1.status_code, r1.json()["duplicate"]) == (201, False)
    assert (r2.status_code, r2.json()["duplicate"]) == (200, True)
    clash = client.post(
        "/integrations/v1/erp/confirmations", json={**body, "erp_reference": "MIGO-9"}, headers=auth
    )
    assert clash.status_code == 409
    unknown = client.post(
        "/integrations/v1/erp/confirmations",
        json={**body, "document_id": "00000000-0000-0000-0000-000000000000"},
        headers=auth,
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "document_id"
    wrong_kind = client.post(
        "/integrations/v1/erp/confirmations", json={**body, "kind": "invoice_draft"}, headers=auth
    )
    assert wrong_kind.status_code == 422
    again = client.get("/integrations/v1/erp/exports/stock-issues", params=day1, headers=auth).json()[
        "documents"
    ]
    assert (again[0]["erp_status"], again[0]["erp_reference"]) == ("accepted", "MIGO-4711")
    with world.system.runtime.sessions() as s:
        trail = list(
            s.scalars(
                sa.select(AuditEvent.action).where(
                    AuditEvent.subject_id == first, AuditEvent.subject_type == "work_order"
                )
            )
        )
    assert trail.count("erp_accepted") == 1
