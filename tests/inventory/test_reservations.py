"""Reservations follow the dispatch flow through domain events: reserve on assignment (van first, else the
nearest warehouse and a pickup), release on reassignment, decline, cancellation and completion, once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.domain.errors import Invalid
from core.domain.events import DomainEvent
from core.domain.lifecycle import VisitStatus, WorkOrderStatus
from core.services import engineers, visits, workorders
from core.store.models import OutboxEvent
from inventory import movements, pickups, read_model, reservations
from inventory.lines import PartLine
from inventory.models import StockLocation, StockMovement, StockReservation, StockSerial
from tests.inventory.helpers import BELT, COMPRESSOR, FILTER, Stock, check_ledger, level


def put(stock: Stock, where: str, sku: str, quantity: int) -> None:
    ctx = stock.ctx()
    with ctx.session:
        movements.receive(
            ctx,
            movements.ReceiveInput(
                location_id=stock.ids[where], lines=[PartLine(sku=sku, quantity=quantity)]
            ),
        )


def planned(stock: Stock, quantity: int = 2, engineer: str = "engineer") -> tuple[int, int]:
    """A work order needing `quantity` filters, assigned: (work order id, visit id)."""
    ctx = stock.ctx()
    with ctx.session:
        wo = workorders.create_work_order(
            ctx,
            workorders.WorkOrderInput(
                title="filter change",
                site_id=stock.world.ids["site"],
                required_skills=[workorders.SkillRequirement("hvac")] if engineer == "engineer" else [],
                required_parts=[workorders.PartNeed(sku=FILTER, quantity=quantity)],
            ),
        )
        visit = visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=stock.world.ids[engineer]), None)
        return wo.id, visit.id


def held(stock: Stock, wo_id: int) -> list[tuple[int, int, str, bool]]:
    with stock.ctx().session as s:
        rows = s.scalars(
            sa.select(StockReservation)
            .where(StockReservation.work_order_id == wo_id)
            .order_by(StockReservation.id)
        )
        return [(r.location_id, r.open_quantity, r.status, r.pickup_needed) for r in rows]


def events(stock: Stock) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    stock.system.runtime.bus.subscribe("stock.*", seen.append)
    return seen


def test_assignment_reserves_from_the_van_and_cancellation_releases(stock: Stock) -> None:
    put(stock, "van", FILTER, 3)
    put(stock, "near", FILTER, 9)
    wo, _ = planned(stock)
    assert held(stock, wo) == [(stock.ids["van"], 2, "active", False)]
    with stock.ctx().session as s:
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (3, 2, 0)
        assert read_model.van_stock(s)[stock.world.ids["engineer"]] == {FILTER: 1}
        assert read_model.van_stock(s, include_reserved=True)[stock.world.ids["engineer"]] == {FILTER: 3}
    ctx = stock.ctx()
    with ctx.session:
        workorders.transition_work_order(ctx, wo, WorkOrderStatus.CANCELLED, "customer fixed it", None)
    assert held(stock, wo) == [(stock.ids["van"], 0, "released", False)]
    with stock.ctx().session as s:
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (3, 0, 0)
        check_ledger(s)


def test_an_empty_van_reserves_at_the_nearest_warehouse_and_asks_for_a_pickup(stock: Stock) -> None:
    seen = events(stock)
    put(stock, "near", FILTER, 2)
    put(stock, "far", FILTER, 5)
    put(stock, "van", FILTER, 1)  # not enough for the job
    wo, visit = planned(stock)
    assert held(stock, wo) == [(stock.ids["near"], 2, "active", True)]
    pickup = [e for e in seen if e.type == "stock.pickup_needed"]
    assert len(pickup) == 1
    assert pickup[0].subject_id == wo
    assert pickup[0].data["location_code"] == "WH-PD"
    assert pickup[0].data["visit_id"] == visit
    assert pickup[0].data["lines"] == [{"sku": FILTER, "quantity": 2}]
    # The next job finds the nearer warehouse empty (all reserved) and goes further.
    wo2, _ = planned(stock)
    assert held(stock, wo2) == [(stock.ids["far"], 2, "active", True)]


def test_no_stock_anywhere_is_a_shortage_not_an_error(stock: Stock) -> None:
    seen = events(stock)
    wo, _ = planned(stock, quantity=4)
    assert held(stock, wo) == []
    shortage = [e for e in seen if e.type == "stock.shortage"]
    assert [e.data["lines"] for e in shortage] == [
        [{"sku": FILTER, "quantity": 4, "reason": "no van or warehouse has 4 available"}]
    ]


def test_reassignment_moves_the_reservation_to_the_new_engineers_van(stock: Stock) -> None:
    put(stock, "van", FILTER, 2)
    put(stock, "van_b", FILTER, 2)
    wo, visit = planned(stock)
    ctx = stock.ctx()
    with ctx.session:
        visits.transition_visit(ctx, visit, VisitStatus.DECLINED, reason="sick")
    assert held(stock, wo) == [(stock.ids["van"], 0, "released", False)]
    ctx = stock.ctx()
    with ctx.session:
        wo_row = workorders.get_work_order(ctx, wo)
        workorders.update_work_order(ctx, wo, workorders.WorkOrderPatch(required_skills=[]), wo_row.version)
        visits.assign(ctx, wo, visits.AssignInput(engineer_id=stock.world.ids["engineer_b"]), None)
    assert held(stock, wo)[-1] == (stock.ids["van_b"], 2, "active", False)
    with stock.ctx().session as s:
        check_ledger(s)


def test_a_redelivered_event_changes_nothing_twice(stock: Stock) -> None:
    put(stock, "van", FILTER, 5)
    wo, visit = planned(stock)
    bus = stock.system.runtime.bus
    with stock.ctx().session as s:
        stored = s.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "visit.assigned")).one()
        again = DomainEvent(
            type=stored.type,
            subject_type=stored.subject_type,
            subject_id=stored.subject_id,
            occurred_at=stored.occurred_at,
            data=stored.data,
            actor=stored.actor,
            id=stored.event_id,
        )
        ledger_before = s.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    bus.publish(again)
    # A different event about the same visit (say, a replay from another relay) is a no-op as well.
    bus.publish(DomainEvent("visit.assigned", "visit", visit, again.occurred_at, again.data))
    assert held(stock, wo) == [(stock.ids["van"], 2, "active", False)]
    with stock.ctx().session as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == ledger_before
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (5, 2, 0)
    ctx = stock.ctx()
    with ctx.session:
        assert reservations.release_for_work_order(ctx, wo, "test") == 1
        assert reservations.release_for_work_order(ctx, wo, "test") == 0
        check_ledger(ctx.session)


def test_consumption_draws_on_the_reservation_and_completion_releases_the_rest(stock: Stock) -> None:
    put(stock, "van", FILTER, 3)
    wo, visit = planned(stock, quantity=2)
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        for step in (VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE):
            visits.transition_visit(ctx, visit, step)
        movements.consume(ctx, movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=FILTER)]))
        line = ctx.session.scalars(sa.select(StockMovement).where(StockMovement.kind == "consume")).one()
        assert (line.on_hand_delta, line.reserved_delta, line.reservation_id is not None) == (-1, -1, True)
    assert held(stock, wo) == [(stock.ids["van"], 1, "active", False)]
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        visits.transition_visit(ctx, visit, VisitStatus.WORK_DONE)
        visits.transition_visit(ctx, visit, VisitStatus.SIGNED_OFF)
    assert held(stock, wo) == [(stock.ids["van"], 0, "released", False)]
    with stock.ctx().session as s:
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (2, 0, 0)
        assert read_model.parts_used(s, wo) == {FILTER: 1}
        check_ledger(s)


def test_a_pickup_moves_the_reservation_into_the_van(stock: Stock) -> None:
    put(stock, "near", FILTER, 5)
    wo, _ = planned(stock, quantity=2)
    assert held(stock, wo) == [(stock.ids["near"], 2, "active", True)]
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        after = pickups.pick_up(ctx, pickups.PickupInput(work_order_id=wo))
        assert {(v.location_code, v.on_hand, v.reserved) for v in after} == {("WH-PD", 3, 0), ("VAN-1", 2, 2)}
        # Nothing left to pick up: a replay changes nothing.
        assert pickups.pick_up(ctx, pickups.PickupInput(work_order_id=wo)) == []
        kinds = ctx.session.execute(
            sa.select(StockMovement.kind, StockMovement.location_id)
            .where(StockMovement.work_order_id == wo)
            .order_by(StockMovement.id)
        ).all()
        assert [k for k, _ in kinds] == ["reserve", "release", "transfer_out", "transfer_in", "reserve"]
        check_ledger(ctx.session)
    assert held(stock, wo) == [
        (stock.ids["near"], 0, "released", True),
        (stock.ids["van"], 2, "active", False),
    ]
    # The parts picked up are then used from the van, against the moved reservation.
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        movements.consume(
            ctx, movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=FILTER, quantity=2)])
        )
        check_ledger(ctx.session)
    assert held(stock, wo)[-1] == (stock.ids["van"], 0, "consumed", False)


def test_a_serial_tracked_pickup_names_its_serials(stock: Stock) -> None:
    ctx = stock.ctx()
    with ctx.session:
        line = PartLine(sku=COMPRESSOR, quantity=2, serials=["K-1", "K-2"])
        movements.receive(ctx, movements.ReceiveInput(location_id=stock.ids["far"], lines=[line]))
        wo = workorders.create_work_order(
            ctx,
            workorders.WorkOrderInput(
                title="compressor",
                site_id=stock.world.ids["site"],
                required_parts=[workorders.PartNeed(sku=COMPRESSOR)],
            ),
        )
        visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=stock.world.ids["engineer"]), None)
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        with pytest.raises(Invalid, match="give 1 serial number") as err:
            pickups.pick_up(ctx, pickups.PickupInput(work_order_id=wo.id))
        assert err.value.field == "serials"
        ctx.session.rollback()
        pick = pickups.PickupInput(work_order_id=wo.id, serials=[PartLine(sku=COMPRESSOR, serials=["K-2"])])
        pickups.pick_up(ctx, pick)
        serial = ctx.session.get(StockSerial, (stock.ids[COMPRESSOR], "K-2"))
        assert serial is not None and (serial.status, serial.location_id) == ("in_stock", stock.ids["van"])
        check_ledger(ctx.session)


def test_a_new_engineer_gets_a_van(stock: Stock) -> None:
    ctx = stock.ctx()
    with ctx.session:
        engineer = engineers.create_engineer(
            ctx,
            engineers.EngineerInput(
                name="新人", territory_id=stock.world.ids["territory"], home_lat=31.2, home_lon=121.4
            ),
        )
    with stock.ctx().session as s:
        van = s.scalars(sa.select(StockLocation).where(StockLocation.engineer_id == engineer.id)).one()
        assert (van.code, van.kind, van.territory_id) == (
            f"VAN-{engineer.id}",
            "van",
            stock.world.ids["territory"],
        )


def test_changing_the_parts_list_re_reserves(stock: Stock) -> None:
    put(stock, "van", FILTER, 5)
    put(stock, "van", BELT, 1)
    wo, _ = planned(stock, quantity=2)
    ctx = stock.ctx()
    with ctx.session:
        version = workorders.get_work_order(ctx, wo).version
        parts = [workorders.PartNeed(sku=FILTER, quantity=3), workorders.PartNeed(sku=BELT)]
        workorders.update_work_order(ctx, wo, workorders.WorkOrderPatch(required_parts=parts), version)
    active = [(loc, q) for loc, q, status, _ in held(stock, wo) if status == "active"]
    assert sorted(active) == [(stock.ids["van"], 1), (stock.ids["van"], 3)]
    with stock.ctx().session as s:
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (5, 3, 0)
        assert level(s, stock.ids[BELT], stock.ids["van"]) == (1, 1, 0)
        check_ledger(s)
