"""Real concurrency on PostgreSQL: many threads, each with its own session, fight over scarce stock.

The conditional UPDATE is the only guard (no explicit locks): the totals must be exact, and exactly the
requests that could not be served get a 409.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.domain.clock import FixedClock
from core.domain.errors import Conflict
from core.services import visits, workorders
from core.services.context import ServiceContext
from fieldops.settings import Settings
from fieldops.wiring import build_system
from inventory import movements, reservations, transfers
from inventory.lines import PartLine
from inventory.models import StockMovement, StockReservation
from tests.conftest import T0, truncate_all
from tests.inventory.helpers import COMPRESSOR, FILTER, Stock, build_stock, check_ledger, level
from tests.world import build_world

pytestmark = pytest.mark.postgres
THREADS = 16


@pytest.fixture
def pg_stock(postgres_x: Engine, tmp_path: Path) -> Iterator[Stock]:
    truncate_all(postgres_x)
    settings = Settings(
        data_dir=str(tmp_path / "data"), secret_key="test-secret-key-of-sufficient-length-32b"
    )
    system = build_system(settings, clock=FixedClock(T0), engine=postgres_x)
    yield build_stock(build_world(system))
    truncate_all(postgres_x)


def race(n: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` for i in range(n) on n threads released at the same instant; results or exceptions."""
    gate = threading.Barrier(n)

    def one(i: int) -> object:
        gate.wait()
        try:
            return work(i)
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def put(stock: Stock, where: str, sku: str, quantity: int, serials: list[str] | None = None) -> None:
    ctx = stock.ctx()
    with ctx.session:
        line = PartLine(sku=sku, quantity=quantity, serials=serials or [])
        movements.receive(ctx, movements.ReceiveInput(location_id=stock.ids[where], lines=[line]))


def job(stock: Stock, parts: list[workorders.PartNeed] | None = None) -> tuple[int, int]:
    ctx = stock.ctx()
    with ctx.session:
        wo = workorders.create_work_order(
            ctx,
            workorders.WorkOrderInput(
                title="race", site_id=stock.world.ids["site"], required_parts=parts or []
            ),
        )
        visit = visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=stock.world.ids["engineer"]), None)
        return wo.id, visit.id


def test_many_engineers_consume_the_last_units_exactly_the_right_number_win(pg_stock: Stock) -> None:
    stock = pg_stock
    put(stock, "van", FILTER, 5)
    orders = [job(stock)[0] for _ in range(THREADS)]

    def consume(i: int) -> object:
        ctx = stock.ctx(stock.engineer())
        with ctx.session:
            body = movements.ConsumeInput(work_order_id=orders[i], lines=[PartLine(sku=FILTER)])
            return movements.consume(ctx, body)

    outcomes = race(THREADS, consume)
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == THREADS - 5
    assert all("not enough FLT-01 at VAN-1: 0 available" in r.detail for r in refused)
    with stock.ctx().session as s:
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (0, 0, 0)
        consumed = s.scalar(sa.select(sa.func.count()).where(StockMovement.kind == "consume"))
        assert consumed == 5
        check_ledger(s)


def test_mixed_sizes_from_several_sides_conserve_every_unit(pg_stock: Stock) -> None:
    stock = pg_stock
    put(stock, "near", FILTER, 20)
    orders = [job(stock)[0] for _ in range(THREADS)]
    sizes = [1 + i % 4 for i in range(THREADS)]

    def move(i: int) -> object:
        ctx = stock.ctx()
        with ctx.session:
            line = PartLine(sku=FILTER, quantity=sizes[i])
            if i % 3 == 0:
                body = transfers.TransferInput(
                    from_location_id=stock.ids["near"], to_location_id=stock.ids["van"], lines=[line]
                )
                return transfers.ship(ctx, body)
            if i % 3 == 1:
                data = movements.AdjustInput(
                    location_id=stock.ids["near"], sku=FILTER, change=-sizes[i], reason="broken"
                )
                return movements.adjust(ctx, data)
            consume = movements.ConsumeInput(
                work_order_id=orders[i], location_id=stock.ids["near"], lines=[line]
            )
            return movements.consume(ctx, consume)

    outcomes = race(THREADS, move)
    taken = sum(size for size, o in zip(sizes, outcomes, strict=True) if not isinstance(o, Conflict))
    with stock.ctx().session as s:
        on_hand, reserved, _ = level(s, stock.ids[FILTER], stock.ids["near"])
        _, _, inbound = level(s, stock.ids[FILTER], stock.ids["van"])
        assert on_hand == 20 - taken and on_hand >= 0 and reserved == 0
        # Every refusal was for want of stock: no request that fitted was turned away at the end.
        assert all(on_hand < size for size, o in zip(sizes, outcomes, strict=True) if isinstance(o, Conflict))
        shipped = sum(
            size
            for i, (size, o) in enumerate(zip(sizes, outcomes, strict=True))
            if i % 3 == 0 and not isinstance(o, Conflict)
        )
        assert inbound == shipped
        check_ledger(s)


def test_one_serial_number_is_taken_once(pg_stock: Stock) -> None:
    stock = pg_stock
    put(stock, "van", COMPRESSOR, 3, ["C-1", "C-2", "C-3"])
    orders = [job(stock)[0] for _ in range(THREADS)]

    def consume(i: int) -> object:
        ctx = stock.ctx(stock.engineer())
        with ctx.session:
            line = PartLine(sku=COMPRESSOR, serials=["C-2"])
            return movements.consume(ctx, movements.ConsumeInput(work_order_id=orders[i], lines=[line]))

    outcomes = race(THREADS, consume)
    assert sum(not isinstance(o, Conflict) for o in outcomes) == 1
    with stock.ctx().session as s:
        assert level(s, stock.ids[COMPRESSOR], stock.ids["van"]) == (2, 0, 0)
        check_ledger(s)


def test_concurrent_reservations_never_promise_the_same_unit_twice(pg_stock: Stock) -> None:
    stock = pg_stock
    put(stock, "van", FILTER, 4)
    put(stock, "near", FILTER, 3)
    planned = [job(stock, [workorders.PartNeed(sku=FILTER, quantity=1)])[1] for _ in range(10)]

    def reserve(i: int) -> object:
        ctx = stock.ctx()
        with ctx.session:
            return reservations.reserve_for_visit(ctx, planned[i])

    outcomes = race(10, reserve)
    assert sum(len(o.shortages) for o in outcomes if isinstance(o, reservations.Reserved)) == 3
    with stock.ctx().session as s:
        places = s.execute(
            sa.select(StockReservation.location_id, sa.func.count()).group_by(StockReservation.location_id)
        )
        assert dict(places.tuples().all()) == {stock.ids["van"]: 4, stock.ids["near"]: 3}
        assert level(s, stock.ids[FILTER], stock.ids["van"]) == (4, 4, 0)
        check_ledger(s)


def test_a_transfer_is_received_once_under_a_race(pg_stock: Stock) -> None:
    stock = pg_stock
    put(stock, "near", FILTER, 4)
    ctx = stock.ctx()
    with ctx.session:
        body = transfers.TransferInput(
            from_location_id=stock.ids["near"],
            to_location_id=stock.ids["van"],
            lines=[PartLine(sku=FILTER, quantity=4)],
        )
        transfer_id = transfers.ship(ctx, body).id

    def close(i: int) -> object:
        c: ServiceContext = stock.ctx()
        with c.session:
            if i % 2:
                return transfers.cancel_transfer(c, transfer_id, transfers.CloseInput(note="race"))
            return transfers.receive_transfer(c, transfer_id)

    outcomes = race(8, close)
    assert sum(not isinstance(o, Conflict) for o in outcomes) == 1
    with stock.ctx().session as s:
        near, van = (
            level(s, stock.ids[FILTER], stock.ids["near"]),
            level(s, stock.ids[FILTER], stock.ids["van"]),
        )
        assert near[0] + van[0] == 4 and van[2] == 0
        check_ledger(s)
