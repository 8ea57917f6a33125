"""The stock use cases against the real database: receipts, adjustments, consumption, returns, serials."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.domain.errors import Conflict, Invalid
from core.services import visits, workorders
from inventory import movements, read_model
from inventory.lines import PartLine
from inventory.models import StockMovement, StockSerial
from tests.inventory.helpers import BELT, COMPRESSOR, FILTER, Stock, check_ledger, level


def receive(stock: Stock, where: str, sku: str, quantity: int, serials: list[str] | None = None) -> None:
    ctx = stock.ctx()
    with ctx.session:
        movements.receive(
            ctx,
            movements.ReceiveInput(
                location_id=stock.ids[where],
                lines=[PartLine(sku=sku, quantity=quantity, serials=serials or [])],
                reason="PO-1",
            ),
        )


def work_order(stock: Stock, parts: list[dict] | None = None, engineer: str | None = "engineer") -> int:
    ctx = stock.ctx()
    with ctx.session:
        wo = workorders.create_work_order(
            ctx,
            workorders.WorkOrderInput(
                title="chiller",
                site_id=stock.world.ids["site"],
                required_parts=[workorders.PartNeed(**p) for p in parts or []],
            ),
        )
        if engineer:
            visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=stock.world.ids[engineer]), None)
        return wo.id


def test_receive_then_consume_from_my_van(stock: Stock) -> None:
    receive(stock, "van", FILTER, 3)
    wo = work_order(stock)
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        after = movements.consume(
            ctx,
            movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=FILTER, quantity=2)], note="used"),
        )
        assert [(v.sku, v.location_code, v.on_hand, v.available) for v in after] == [(FILTER, "VAN-1", 1, 1)]
        line = ctx.session.scalars(sa.select(StockMovement).where(StockMovement.kind == "consume")).one()
        assert (line.actor, line.work_order_id, line.on_hand_delta, line.reason) == (
            "engineer",
            wo,
            -2,
            "used",
        )
        assert read_model.parts_used(ctx.session, wo) == {FILTER: 2}
        check_ledger(ctx.session)


def test_consuming_more_than_is_there_is_a_409_that_changes_nothing(stock: Stock) -> None:
    receive(stock, "van", FILTER, 1)
    receive(stock, "van", BELT, 5)
    wo = work_order(stock)
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        before = ctx.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
        with pytest.raises(
            Conflict, match=r"not enough FLT-01 at VAN-1: 1 available \(1 on hand, 0 reserved\), 2 needed"
        ):
            movements.consume(
                ctx,
                movements.ConsumeInput(
                    work_order_id=wo, lines=[PartLine(sku=BELT, quantity=1), PartLine(sku=FILTER, quantity=2)]
                ),
            )
        assert ctx.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == before
        assert level(ctx.session, stock.ids[BELT], stock.ids["van"]) == (5, 0, 0)
        check_ledger(ctx.session)


def test_an_engineer_cannot_use_another_engineers_van(stock: Stock) -> None:
    receive(stock, "van_b", FILTER, 3)
    wo = work_order(stock)
    ctx = stock.ctx(stock.engineer())
    with ctx.session, pytest.raises(Invalid, match="does not exist") as err:
        movements.consume(
            ctx,
            movements.ConsumeInput(
                work_order_id=wo, location_id=stock.ids["van_b"], lines=[PartLine(sku=FILTER)]
            ),
        )
    assert err.value.field == "location_id"


def test_an_engineer_cannot_book_parts_on_someone_elses_job(stock: Stock) -> None:
    receive(stock, "van_b", FILTER, 3)
    wo = work_order(stock)  # assigned to `engineer`, not `engineer_b`
    ctx = stock.ctx(stock.engineer("engineer_b"))
    with ctx.session, pytest.raises(Invalid, match="does not exist") as err:
        movements.consume(ctx, movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=FILTER)]))
    assert err.value.field == "work_order_id"


def test_returns_never_exceed_what_the_job_used(stock: Stock) -> None:
    receive(stock, "van", FILTER, 3)
    wo = work_order(stock)
    ctx = stock.ctx(stock.engineer())
    with ctx.session:
        movements.consume(
            ctx, movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=FILTER, quantity=2)])
        )
        movements.return_parts(ctx, movements.ReturnInput(work_order_id=wo, lines=[PartLine(sku=FILTER)]))
        with pytest.raises(Invalid, match="has used 1 of FLT-01; 2 cannot come back") as err:
            movements.return_parts(
                ctx, movements.ReturnInput(work_order_id=wo, lines=[PartLine(sku=FILTER, quantity=2)])
            )
        assert err.value.field == "lines[0].quantity"
        assert read_model.parts_used(ctx.session, wo) == {FILTER: 1}
        assert level(ctx.session, stock.ids[FILTER], stock.ids["van"]) == (2, 0, 0)
        check_ledger(ctx.session)


def test_serials_are_in_exactly_one_place(stock: Stock) -> None:
    receive(stock, "van", COMPRESSOR, 2, ["S1", "S2"])
    wo = work_order(stock)
    ctx = stock.ctx()
    with ctx.session:
        with pytest.raises(Conflict, match="serial S1 is already in stock at VAN-1"):
            movements.receive(
                ctx,
                movements.ReceiveInput(
                    location_id=stock.ids["near"],
                    lines=[PartLine(sku=COMPRESSOR, quantity=1, serials=["S1"])],
                ),
            )
        with pytest.raises(Invalid, match="give 2 serial number") as err:
            movements.consume(
                ctx,
                movements.ConsumeInput(
                    work_order_id=wo, lines=[PartLine(sku=COMPRESSOR, quantity=2, serials=["S1"])]
                ),
            )
        assert err.value.field == "lines[0].serials"
        with pytest.raises(Conflict, match="serial S9 is unknown"):
            movements.consume(
                ctx,
                movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=COMPRESSOR, serials=["S9"])]),
            )
        movements.consume(
            ctx, movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=COMPRESSOR, serials=["S2"])])
        )
        with pytest.raises(
            Conflict, match=f"serial S2 is not in stock at VAN-1: it is used on work order {wo}"
        ):
            movements.consume(
                ctx,
                movements.ConsumeInput(work_order_id=wo, lines=[PartLine(sku=COMPRESSOR, serials=["S2"])]),
            )
        serial = ctx.session.get(StockSerial, (stock.ids[COMPRESSOR], "S2"))
        assert serial is not None and (serial.status, serial.work_order_id) == ("consumed", wo)
        # Back unused: into the van again.
        movements.return_parts(
            ctx, movements.ReturnInput(work_order_id=wo, lines=[PartLine(sku=COMPRESSOR, serials=["S2"])])
        )
        assert level(ctx.session, stock.ids[COMPRESSOR], stock.ids["van"]) == (2, 0, 0)
        check_ledger(ctx.session)


def test_adjustments_need_a_reason_and_never_go_below_zero(stock: Stock) -> None:
    receive(stock, "near", FILTER, 2)
    ctx = stock.ctx()
    with ctx.session:
        with pytest.raises(Conflict, match="2 available"):
            movements.adjust(
                ctx,
                movements.AdjustInput(location_id=stock.ids["near"], sku=FILTER, change=-3, reason="broken"),
            )
        movements.adjust(
            ctx, movements.AdjustInput(location_id=stock.ids["near"], sku=FILTER, change=-2, reason="broken")
        )
        line = ctx.session.scalars(sa.select(StockMovement).where(StockMovement.kind == "adjust")).one()
        assert (line.on_hand_delta, line.reason) == (-2, "broken")
        assert level(ctx.session, stock.ids[FILTER], stock.ids["near"]) == (0, 0, 0)
        check_ledger(ctx.session)


def test_the_ledger_cannot_be_rewritten(stock: Stock) -> None:
    receive(stock, "near", FILTER, 2)
    for statement in ("UPDATE stock_movements SET quantity = 99", "DELETE FROM stock_movements"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), stock.system.engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_the_database_refuses_a_negative_level_even_from_raw_sql(stock: Stock) -> None:
    receive(stock, "near", FILTER, 2)
    with pytest.raises(sa.exc.IntegrityError), stock.system.engine.begin() as conn:
        conn.execute(sa.text("UPDATE stock_levels SET on_hand = -1"))
    with pytest.raises(sa.exc.IntegrityError), stock.system.engine.begin() as conn:
        conn.execute(sa.text("UPDATE stock_levels SET reserved = on_hand + 1"))
