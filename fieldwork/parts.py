"""Parts on a visit: consumed from my van (or a named location), returned unused, serials scanned.

The ledger is `inventory`'s; this module only speaks for the engineer on their own visit.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.services.context import ServiceContext
from core.store.models import Visit
from fieldwork.moves import check_time, working_visit
from inventory import movements
from inventory.lines import PartLine
from inventory.read_model import parts_used, van_stock_of
from mobile_contract import wire


def inventory_lines(lines: Sequence[wire.PartLine]) -> list[PartLine]:
    return [PartLine(sku=line.sku, quantity=line.quantity, serials=list(line.serials)) for line in lines]


def state(ctx: ServiceContext, visit: Visit) -> wire.PartsState:
    return wire.PartsState(
        work_order_id=visit.work_order_id,
        used_on_job=_lines(parts_used(ctx.session, visit.work_order_id)),
        my_van=_lines(van_stock_of(ctx.session, visit.engineer_id)),
    )


def _lines(by_sku: dict[str, int]) -> list[wire.StockLine]:
    return [wire.StockLine(sku=sku, quantity=qty) for sku, qty in sorted(by_sku.items())]


def consume(ctx: ServiceContext, visit_id: int, move: wire.PartsMove) -> wire.PartsState:
    check_time(ctx, move.occurred_at)
    visit = working_visit(ctx, visit_id)
    movements.consume(
        ctx,
        movements.ConsumeInput(
            work_order_id=visit.work_order_id,
            lines=inventory_lines(move.lines),
            location_id=move.location_id,
            note=move.note,
        ),
    )
    return state(ctx, visit)


def give_back(ctx: ServiceContext, visit_id: int, move: wire.PartsMove) -> wire.PartsState:
    check_time(ctx, move.occurred_at)
    visit = working_visit(ctx, visit_id)
    movements.return_parts(
        ctx,
        movements.ReturnInput(
            work_order_id=visit.work_order_id,
            lines=inventory_lines(move.lines),
            location_id=move.location_id,
            reason=move.note,
        ),
    )
    return state(ctx, visit)
