"""On site to signed off through the typed client: parts, checklist, notes, time, sign-off, settlement."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from core.store.models import OutboxEvent
from mobile_contract import wire
from mobile_contract.client import MobileApiError, MobileClient
from tests.conftest import T0
from tests.inventory.helpers import COMPRESSOR, FILTER
from tests.mobile.conftest import png
from tests.world import PASSWORD, World

TOWER = (31.2335, 121.5055)


def test_parts_from_my_van_with_serials_and_a_return(on_site: dict, clock: FixedClock) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    state = app.consume_parts(
        vid,
        wire.PartsMove(
            occurred_at=clock.now(),
            lines=[wire.PartLine(sku=FILTER, quantity=3), wire.PartLine(sku=COMPRESSOR, serials=["CMP-A2"])],
        ),
    )
    assert {(line.sku, line.quantity) for line in state.used_on_job} == {(FILTER, 3), (COMPRESSOR, 1)}
    assert {(line.sku, line.quantity) for line in state.my_van} == {(FILTER, 2), (COMPRESSOR, 1)}
    back = app.return_parts(vid, wire.PartsMove(occurred_at=clock.now(), lines=[wire.PartLine(sku=FILTER)]))
    assert {(line.sku, line.quantity) for line in back.used_on_job} == {(FILTER, 2), (COMPRESSOR, 1)}
    assert {(line.sku, line.quantity) for line in app.my_van()} == {(FILTER, 3), (COMPRESSOR, 1)}


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "NOPE", "quantity": 1}], "lines[0].sku"),
        ([{"sku": COMPRESSOR, "quantity": 1}], "lines[0].serials"),
        # A serial that is not in my van: a clash with the stock record (409), not bad input.
        ([{"sku": COMPRESSOR, "quantity": 1, "serials": ["NOT-IN-VAN"]}], None),
        ([{"sku": FILTER, "quantity": 50}], None),
    ],
)
def test_bad_part_lines_are_refused_and_book_nothing(
    on_site: dict, client: TestClient, clock: FixedClock, lines: list, field: str | None
) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    before = app.my_van()
    response = client.post(
        f"/mobile/v1/visits/{vid}/parts/consume",
        headers={"Authorization": f"Bearer {app.session.access_token}"},  # type: ignore[union-attr]
        json={"occurred_at": clock.now().isoformat(), "lines": lines},
    )
    assert response.status_code in (409, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert response.json()["field"] == field
    assert app.my_van() == before


def test_an_engineer_cannot_book_parts_on_someone_elses_visit(
    on_site: dict, client: TestClient, clock: FixedClock
) -> None:
    other = MobileClient(client)
    other.sign_in("engineer_b", PASSWORD)
    with pytest.raises(MobileApiError) as err:
        other.consume_parts(
            on_site["visit"]["id"], wire.PartsMove(occurred_at=clock.now(), lines=[wire.PartLine(sku=FILTER)])
        )
    assert err.value.status == 404


def _template(client: TestClient, world: World) -> None:
    admin = {"Authorization": f"Bearer {_token(client, 'admin')}"}
    response = client.put(
        "/checklist-templates",
        headers=admin,
        json={
            "name": "Chiller service",
            "asset_model_id": world.ids["model"],
            "items": [
                {
                    "key": "pressure_ok",
                    "label": "Pressure in range",
                    "label_zh": "压力正常",
                    "type": "yes_no",
                    "required": True,
                },
                {
                    "key": "outlet_temp",
                    "label": "Outlet °C",
                    "type": "number",
                    "required": True,
                    "min": -10,
                    "max": 40,
                },
                {"key": "condition", "label": "Condition", "type": "choice", "options": ["good", "worn"]},
            ],
        },
    )
    assert response.status_code in (200, 201), response.text


def _token(client: TestClient, username: str) -> str:
    from tests.world import login

    return login(client, username)["Authorization"].removeprefix("Bearer ")


def test_checklist_answers_are_checked_and_required_before_work_done(
    on_site: dict, client: TestClient, world: World, clock: FixedClock
) -> None:
    _template(client, world)
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    sheet = app.checklist(vid)
    assert [i.key for i in sheet.items] == ["pressure_ok", "outlet_temp", "condition"]
    assert sheet.items[0].label_zh == "压力正常" and not sheet.complete

    with pytest.raises(MobileApiError) as err:
        app.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="fixed"))
    assert err.value.status == 422 and err.value.problem["field"] == "checklist"
    assert "pressure_ok" in err.value.problem["detail"]

    for answers, field in (
        ([wire.Answer(key="outlet_temp", value=99.0)], "answers[0].value"),
        ([wire.Answer(key="pressure_ok", value="yes")], "answers[0].value"),
        ([wire.Answer(key="condition", value="broken")], "answers[0].value"),
        ([wire.Answer(key="nope", value=True)], "answers[0].key"),
    ):
        with pytest.raises(MobileApiError) as err:
            app.answer_checklist(vid, wire.ChecklistAnswers(occurred_at=clock.now(), answers=answers))
        assert err.value.status == 422 and err.value.problem["field"] == field

    sheet = app.answer_checklist(
        vid,
        wire.ChecklistAnswers(
            occurred_at=clock.now(),
            answers=[wire.Answer(key="pressure_ok", value=True), wire.Answer(key="outlet_temp", value=7.5)],
        ),
    )
    assert sheet.complete
    state = app.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="fixed"))
    assert state.status == "work_done"


def _finish(app: MobileClient, vid: int, clock: FixedClock, **sign: object) -> wire.SignedOff:
    clock.advance(timedelta(minutes=50))
    app.add_note(vid, wire.NewNote(occurred_at=clock.now(), text="更换了滤芯，压力恢复正常"))
    app.work_done(
        vid,
        wire.WorkDone(
            occurred_at=clock.now(),
            resolution_code="part_replaced",
            resolution_notes="filter replaced",
            parts=[wire.PartLine(sku=FILTER, quantity=2)],
        ),
    )
    clock.advance(timedelta(minutes=2))
    body = {
        "occurred_at": clock.now(),
        "signer_name": "王经理",
        "signature_png": base64.b64encode(png()).decode(),
    }
    body.update(sign)
    return app.sign_off(vid, wire.SignOffBody(**body))  # type: ignore[arg-type]


def test_sign_off_completes_the_job_and_settles_it(
    on_site: dict, client: TestClient, as_dispatcher: dict[str, str], clock: FixedClock, system: object
) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    done = _finish(app, vid, clock, rating=5, rating_comment="很专业")
    assert done.state.status == "signed_off" and done.state.work_order_status == "completed"

    bill = done.settlement
    # 20 min travel (→ 30 min at the travel rate in 15-min steps), 50 min work (→ 60 min), 2 filters at 25.
    kinds = {line.kind: line for line in bill.lines}
    assert set(kinds) == {"call_out", "travel", "labour", "part"}
    assert kinds["labour"].amount == "300.00" and kinds["travel"].amount == "60.00"
    assert kinds["part"].amount == "50.00" and kinds["part"].covered_by is None
    # The gold contract K-1 covers labour, not parts.
    assert kinds["labour"].covered_by == "contract K-1"
    assert Decimal(bill.covered_amount) == Decimal("510.00")
    assert Decimal(bill.customer_amount) == Decimal("50.00")
    assert Decimal(bill.labour_amount) + Decimal(bill.parts_amount) == Decimal(bill.covered_amount) + Decimal(
        bill.customer_amount
    )

    wo = client.get(f"/work-orders/{on_site['wo']['id']}", headers=as_dispatcher).json()
    assert wo["status"] == "completed" and wo["sla"]["resolved_at"] is not None

    from fieldops.wiring import System

    assert isinstance(system, System)
    with system.runtime.sessions() as session:
        types = session.scalars(
            sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == on_site["wo"]["id"])
        )
        seen = set(types)
    assert {"settlement.computed", "work_order.rated", "stock.consumed"} <= seen

    entries = {e.kind: e.minutes for e in app.time_entries(vid)}
    assert entries == {"travel": 20, "work": 50}
    # Settled: the time can no longer be changed from the phone, nor parts booked.
    with pytest.raises(MobileApiError) as err:
        app.edit_time_entry(
            vid, "work", wire.TimeEntryEdit(started_at=T0, ended_at=T0 + timedelta(minutes=5), reason="typo")
        )
    assert err.value.status == 409
    with pytest.raises(MobileApiError) as err:
        app.consume_parts(vid, wire.PartsMove(occurred_at=clock.now(), lines=[wire.PartLine(sku=FILTER)]))
    assert err.value.status == 409


def test_sign_off_needs_a_signature_or_a_reason_and_a_real_png(on_site: dict, clock: FixedClock) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    with pytest.raises(MobileApiError) as err:
        _finish(app, vid, clock, signature_png=None)
    assert err.value.status == 422 and err.value.problem["field"] == "signature_png"
    # Work done went through; the rest only retries the sign-off.
    for extra, field in (
        ({"signature_png": base64.b64encode(b"GIF89a not a png").decode()}, "signature_png"),
        ({"signature_png": "%%%"}, "signature_png"),
        ({"signer_name": None}, "signer_name"),
    ):
        body = {
            "occurred_at": clock.now(),
            "signer_name": "王经理",
            "signature_png": base64.b64encode(png()).decode(),
        }
        body.update(extra)
        with pytest.raises(MobileApiError) as err:
            app.sign_off(vid, wire.SignOffBody(**body))  # type: ignore[arg-type]
        assert err.value.status == 422 and err.value.problem["field"] == field, err.value.problem
    strokes = [[[10.0, 10.0], [200.0, 80.0], [400.0, 20.0]]]
    done = app.sign_off(
        vid, wire.SignOffBody(occurred_at=clock.now(), signer_name="Li", signature_strokes=strokes)
    )
    assert done.state.status == "signed_off"


def test_an_unattended_site_signs_off_with_a_reason(on_site: dict, clock: FixedClock) -> None:
    done = _finish(
        on_site["app"],
        on_site["visit"]["id"],
        clock,
        signature_png=None,
        signer_name=None,
        customer_absent_reason="site unattended at night; key from security",
    )
    assert done.state.work_order_status == "completed"


def test_time_entries_can_be_corrected_with_a_reason_before_sign_off(
    on_site: dict, client: TestClient, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    assert [(e.kind, e.minutes, e.edited) for e in app.time_entries(vid)] == [("travel", 20, False)]
    fixed = app.edit_time_entry(
        vid,
        "travel",
        wire.TimeEntryEdit(
            started_at=T0 - timedelta(minutes=10),
            ended_at=T0 + timedelta(minutes=20),
            reason="forgot to tap en route",
        ),
    )
    assert [(e.kind, e.minutes, e.edited, e.edited_reason) for e in fixed] == [
        ("travel", 30, True, "forgot to tap en route")
    ]
    audit = client.get(f"/visits/{vid}/audit", headers=as_dispatcher)
    if audit.status_code == 200:
        assert any(a["action"] == "time_entry_edited" for a in audit.json())
    with pytest.raises(MobileApiError) as err:
        app.edit_time_entry(
            vid, "travel", wire.TimeEntryEdit(started_at=T0, ended_at=T0 - timedelta(minutes=1), reason="x")
        )
    assert err.value.status == 422 and err.value.problem["field"] == "ended_at"
    done = _finish(app, vid, clock)
    assert next(line for line in done.settlement.lines if line.kind == "travel").amount == "60.00"


def test_the_sign_off_replayed_returns_the_same_answer_and_settles_once(
    on_site: dict, system: object, clock: FixedClock
) -> None:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    clock.advance(timedelta(minutes=30))
    app.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="adjusted"))
    body = wire.SignOffBody(
        occurred_at=clock.now(),
        signer_name="王经理",
        signature_png=base64.b64encode(png()).decode(),
        rating=4,
    )
    first = app.sign_off(vid, body, key="sign-1")
    assert app.sign_off(vid, body, key="sign-1") == first
    from fieldops.wiring import System
    from fieldwork.models import Settlement

    assert isinstance(system, System)
    with system.runtime.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Settlement)) == 1
