"""A whole day of one engineer worked offline and replayed from the phone's queue through the typed
client: once, cut off half-way, and all over again — as a flaky network delivers it.

Whatever the network does, the record ends exactly the same: stock, work-order state, SLA, settlement
and audit trail; and a request delivered twice gets its first answer back.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from PIL import Image

from core.domain.clock import FixedClock
from core.store.models import AuditEvent, OutboxEvent
from fieldops.wiring import System
from fieldwork.models import Settlement
from inventory.models import StockMovement
from mobile_contract import wire
from mobile_contract.client import MobileApiError, MobileClient
from tests.conftest import T0
from tests.inventory.helpers import COMPRESSOR, FILTER, check_ledger
from tests.mobile.conftest import png
from tests.world import PASSWORD, World, login

TOWER = (31.2335, 121.5055)
AT = T0 + timedelta(minutes=1)


def t(minutes: int) -> Any:
    return AT + timedelta(minutes=minutes)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "JPEG")
    return out.getvalue()


Step = tuple[str, Callable[[MobileClient], Any]]


def day_queue(vid: int) -> list[Step]:
    """The phone's offline queue: each call with the idempotency key the app stored with it."""
    photo = _jpeg()
    signature = base64.b64encode(png()).decode()
    return [
        ("accept", lambda app: app.accept(vid, wire.Move(occurred_at=t(0)), key="q1")),
        ("en route", lambda app: app.en_route(vid, wire.EnRoute(occurred_at=t(2), eta=t(30)), key="q2")),
        (
            "check in",
            lambda app: app.check_in(
                vid, wire.CheckIn(occurred_at=t(25), lat=TOWER[0], lon=TOWER[1], accuracy_m=12), key="q3"
            ),
        ),
        ("photo", lambda app: app.upload_photo(vid, photo, category="before", taken_at=t(26), key="q4")),
        (
            "parts",
            lambda app: app.consume_parts(
                vid,
                wire.PartsMove(
                    occurred_at=t(40),
                    lines=[
                        wire.PartLine(sku=FILTER, quantity=2),
                        wire.PartLine(sku=COMPRESSOR, serials=["CMP-A1"]),
                    ],
                ),
                key="q5",
            ),
        ),
        (
            "checklist",
            lambda app: app.answer_checklist(
                vid,
                wire.ChecklistAnswers(
                    occurred_at=t(45),
                    answers=[
                        wire.Answer(key="pressure_ok", value=True),
                        wire.Answer(key="outlet_temp", value=7.0),
                    ],
                ),
                key="q6",
            ),
        ),
        (
            "note",
            lambda app: app.add_note(vid, wire.NewNote(occurred_at=t(50), text="滤芯堵塞，已更换"), key="q7"),
        ),
        (
            "return",
            lambda app: app.return_parts(
                vid, wire.PartsMove(occurred_at=t(55), lines=[wire.PartLine(sku=FILTER)]), key="q8"
            ),
        ),
        (
            "work done",
            lambda app: app.work_done(
                vid, wire.WorkDone(occurred_at=t(80), resolution_code="part_replaced"), key="q9"
            ),
        ),
        (
            "sign off",
            lambda app: app.sign_off(
                vid,
                wire.SignOffBody(
                    occurred_at=t(82),
                    signer_name="王经理",
                    signature_png=signature,
                    rating=5,
                    rating_comment="好",
                ),
                key="q10",
            ),
        ),
    ]


@pytest.fixture
def day(
    client: TestClient, world: World, as_dispatcher: dict[str, str], stock: Any, clock: FixedClock
) -> dict:
    admin = login(client, "admin")
    client.put(
        "/checklist-templates",
        headers=admin,
        json={
            "name": "Chiller",
            "asset_model_id": world.ids["model"],
            "items": [
                {"key": "pressure_ok", "label": "Pressure OK", "type": "yes_no", "required": True},
                {"key": "outlet_temp", "label": "Outlet °C", "type": "number", "required": True},
            ],
        },
    ).raise_for_status()
    wo = client.post(
        "/work-orders",
        headers=as_dispatcher,
        json={"title": "冷水机组保养", "site_id": world.ids["site"], "asset_id": world.ids["asset"]},
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={"engineer_id": world.ids["engineer"], "dispatch": True, "planned_start": t(30).isoformat()},
    ).json()
    app = MobileClient(client)
    app.sign_in("engineer", PASSWORD)
    # In the morning, with signal: the day's plan. Then the basement.
    plan = app.sync(None)
    assert [c.visit_id for c in plan.changed] == [visit["id"]]
    # The phone comes back into coverage at lunchtime with the morning's queue.
    clock.set(T0 + timedelta(minutes=86))
    return {"wo": wo, "visit": visit, "app": app, "cursor": plan.cursor}


def record(system: System, client: TestClient, wo_id: int, app: MobileClient) -> dict[str, Any]:
    dispatcher = login(client, "dispatcher")
    with system.runtime.sessions() as s:
        check_ledger(s)
        movements = s.scalar(
            sa.select(sa.func.count()).select_from(StockMovement).where(StockMovement.work_order_id == wo_id)
        )
        events = sorted(
            s.scalars(
                sa.select(OutboxEvent.type).where(
                    OutboxEvent.subject_type == "work_order", OutboxEvent.subject_id == wo_id
                )
            )
        )
        audit_rows = s.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        settlements = s.scalar(
            sa.select(sa.func.count()).select_from(Settlement).where(Settlement.work_order_id == wo_id)
        )
    return {
        "work_order": client.get(f"/work-orders/{wo_id}", headers=dispatcher).json(),
        "record": client.get(f"/work-orders/{wo_id}/record", headers=dispatcher).json(),
        "audit": client.get(f"/work-orders/{wo_id}/audit", headers=dispatcher).json(),
        "van": [(line.sku, line.quantity) for line in app.my_van()],
        "movements": movements,
        "events": events,
        "audit_rows": audit_rows,
        "settlements": settlements,
    }


@pytest.mark.parametrize("cut", [0, 3, 6, 9])
def test_a_whole_day_replayed_after_a_cut_ends_exactly_like_one_clean_delivery(
    day: dict, client: TestClient, system: System, cut: int
) -> None:
    app: MobileClient = day["app"]
    queue = day_queue(day["visit"]["id"])
    # The network drops after `cut` requests got through (their answers were lost); the app replays all.
    lost = [call(app) for _, call in queue[:cut]]
    answers = [call(app) for _, call in queue]
    assert answers[:cut] == lost
    once = record(system, client, day["wo"]["id"], app)
    # And a flaky network delivers the whole queue once more.
    assert [call(app) for _, call in queue] == answers
    assert record(system, client, day["wo"]["id"], app) == once

    wo, job = once["work_order"], once["record"]
    assert wo["status"] == "completed"
    # SLA facts come from when things happened on site, not from when the phone found signal.
    assert wo["sla"]["responded_at"] == t(25).isoformat().replace("+00:00", "Z")
    assert wo["sla"]["resolved_at"] == t(82).isoformat().replace("+00:00", "Z")
    assert wo["sla"]["state"] == "ok"  # both met in time
    # Stock: 5 filters and 2 compressors in the van; 2 filters and one compressor used, one filter back.
    assert once["van"] == [(COMPRESSOR, 1), (FILTER, 4)]
    assert job["parts_used"] == [{"sku": COMPRESSOR, "quantity": 1}, {"sku": FILTER, "quantity": 1}]
    assert once["movements"] == 3 and once["settlements"] == 1
    assert len(job["photos"]) == 1 and len(job["notes"]) == 1 and job["checklist"]["complete"]
    # 23 min travel → 30 billed at 120/h; 55 min work → 60 at 300/h; call-out 150; parts 25 + 25.
    bill = job["visits"][0]["settlement"]
    assert {line["kind"]: line["amount"] for line in bill["lines"] if line["kind"] != "part"} == {
        "call_out": "150.00",
        "travel": "60.00",
        "labour": "300.00",
    }
    assert (bill["covered_amount"], bill["customer_amount"]) == ("510.00", "50.00")
    assert {"stock.consumed", "stock.returned", "settlement.computed", "work_order.rated"} <= set(
        once["events"]
    )
    actions = [a["action"] for a in once["audit"]]
    for expected in ("parts_consumed", "parts_returned", "checklist_answered", "note_added", "resolved"):
        assert actions.count(expected) == 1, (expected, actions)

    # What the phone sees matches what the dispatcher sees.
    page = app.sync(day["cursor"])
    assert [r.visit_id for r in page.removed] == [day["visit"]["id"]]
    assert page.removed[0].status == "signed_off"


def test_a_stale_phone_changes_nothing_and_is_told_to_sync(
    day: dict, client: TestClient, as_dispatcher: dict[str, str], system: System
) -> None:
    app: MobileClient = day["app"]
    queue = day_queue(day["visit"]["id"])
    queue[0][1](app)
    # The office withdraws the visit while the phone is offline.
    client.post(
        f"/visits/{day['visit']['id']}/transitions",
        headers=as_dispatcher,
        json={"to": "cancelled", "reason": "customer rescheduled"},
    ).raise_for_status()
    before = record(system, client, day["wo"]["id"], app)
    for name, call in queue[1:]:
        with pytest.raises(MobileApiError) as err:
            call(app)
        assert err.value.status == 409, name
        assert "Sync" in err.value.problem["detail"] or "cancelled" in err.value.problem["detail"], name
    after = record(system, client, day["wo"]["id"], app)
    assert after["movements"] == before["movements"] == 0
    assert after["record"]["photos"] == [] and after["record"]["notes"] == []
    assert after["settlements"] == 0
