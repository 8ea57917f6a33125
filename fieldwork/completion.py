"""Finishing a job: the work done (resolution, last parts), then the customer's sign-off and the bill.

Each step is one transaction: the visit moves, the work order follows, stock is booked, the time
entries are written and the settlement is computed together, or none of it happens.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.domain.errors import Conflict, Invalid
from core.domain.lifecycle import VisitStatus
from core.services import visits
from core.services.common import check_version
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Contract, Visit, WorkOrder
from fieldwork import checklists, timesheet
from fieldwork.media import sniff_image
from fieldwork.models import RateCard, Settlement, SignOff
from fieldwork.moves import check_time, state_of, working_visit
from fieldwork.parts import inventory_lines
from fieldwork.pricing import Bill, Coverage, PartCharge, Rates, bill
from fieldwork.storage import BlobStore
from inventory import movements
from inventory.lines import parts_by_sku
from inventory.read_model import parts_used
from mobile_contract import wire

MAX_SIGNATURE_BYTES = 1024 * 1024
# Used when no rate card is set up: a plain default that the admin is expected to replace.
DEFAULT_RATES = Rates("CNY", Decimal("150.00"), Decimal("300.00"), Decimal("120.00"), 15, 30)


def work_done(
    ctx: ServiceContext, visit_id: int, body: wire.WorkDone, version: int | None
) -> wire.VisitState:
    check_time(ctx, body.occurred_at)
    visit = working_visit(ctx, visit_id)
    check_version(visit.version, version)
    if visit.status != VisitStatus.ON_SITE:
        raise Conflict(f"visit {visit.id} is already {visit.status}")
    if body.resolution_code not in wire.RESOLUTION_CODES:
        raise Invalid(
            f"unknown resolution code; one of {', '.join(wire.RESOLUTION_CODES)}", field="resolution_code"
        )
    wo = visit.work_order
    if body.parts:
        movements.consume(
            ctx,
            movements.ConsumeInput(work_order_id=wo.id, lines=inventory_lines(body.parts)),
            commit=False,
        )
    missing = checklists.missing_required(ctx, wo)
    if missing:
        raise Invalid(f"answer the checklist first: {', '.join(missing)}", field="checklist")
    ctx.session.add(
        SignOff(
            visit_id=visit.id,
            work_order_id=wo.id,
            resolution_code=body.resolution_code,
            resolution_notes=body.resolution_notes,
        )
    )
    visit.work_done_at = body.occurred_at
    timesheet.record(ctx, visit)
    audit(ctx, "work_order", wo.id, "resolved", data={"code": body.resolution_code, "visit_id": visit.id})
    # Commits everything above with the move.
    return state_of(visits.transition_visit(ctx, visit.id, VisitStatus.WORK_DONE, at=body.occurred_at))


def _signature(store: BlobStore, body: wire.SignOffBody) -> str | None:
    if body.signature_png is None:
        return None
    try:
        png = base64.b64decode(body.signature_png, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("signature_png is not valid base64", field="signature_png") from exc
    if len(png) > MAX_SIGNATURE_BYTES or sniff_image(png[:32]) != "image/png":
        raise Invalid("signature_png must be a PNG image of at most 1 MB", field="signature_png")
    return store.put(png)


def sign_off(
    ctx: ServiceContext, store: BlobStore, visit_id: int, body: wire.SignOffBody, version: int | None
) -> wire.SignedOff:
    check_time(ctx, body.occurred_at)
    visit = working_visit(ctx, visit_id)
    check_version(visit.version, version)
    if visit.status != VisitStatus.WORK_DONE:
        raise Conflict(f"visit {visit.id} is {visit.status}: record the work done before the sign-off")
    signed = body.signature_png is not None or bool(body.signature_strokes)
    if not signed and body.customer_absent_reason is None:
        raise Invalid("a signature (PNG or strokes) or the reason nobody could sign", field="signature_png")
    if signed and not body.signer_name:
        raise Invalid("who signed?", field="signer_name")
    record = ctx.session.get_one(SignOff, visit.id)
    record.signer_name, record.signed_at = body.signer_name, body.occurred_at
    record.signature_hash = _signature(store, body)
    record.signature_strokes = body.signature_strokes
    record.customer_absent_reason = body.customer_absent_reason
    record.rating, record.rating_comment = body.rating, body.rating_comment
    wo = visit.work_order
    settlement = settle(ctx, visit, body.occurred_at.astimezone(ZoneInfo(wo.site.territory.timezone)).date())
    if body.rating is not None:
        emit(
            ctx,
            "work_order.rated",
            "work_order",
            wo.id,
            {
                "work_order_id": wo.id,
                "customer_id": wo.customer_id,
                "rating": body.rating,
                "comment": body.rating_comment,
                "source": "mobile",
            },
        )
    state = state_of(visits.transition_visit(ctx, visit.id, VisitStatus.SIGNED_OFF, at=body.occurred_at))
    return wire.SignedOff(
        state=state, settlement=settlement_info(settlement), report_path=f"/work-orders/{wo.id}/report.pdf"
    )


# ---------------------------------------------------------------- the bill


def rates_for(ctx: ServiceContext, territory_id: int) -> Rates:
    card = ctx.session.scalar(
        sa.select(RateCard)
        .where(sa.or_(RateCard.territory_id == territory_id, RateCard.territory_id.is_(None)))
        .order_by(RateCard.territory_id.is_(None))
        .limit(1)
    )
    if card is None:
        return DEFAULT_RATES
    return Rates(
        card.currency,
        card.call_out_fee,
        card.hourly_rate,
        card.travel_hourly_rate,
        card.increment_minutes,
        card.minimum_minutes,
    )


def coverage_for(wo: WorkOrder, on: date) -> Coverage:
    """Warranty first (it covers everything), then the contract on the job or the asset."""
    asset = wo.asset
    if asset is not None and asset.warranty_ends_on is not None and on <= asset.warranty_ends_on:
        return Coverage(labour="warranty", parts="warranty")
    contract: Contract | None = wo.contract or (asset.contract if asset is not None else None)
    if contract is None or not (contract.starts_on <= on <= contract.ends_on):
        return Coverage(labour=None, parts=None)
    basis = f"contract {contract.number}"
    return Coverage(
        labour=basis if contract.covers_labour else None, parts=basis if contract.covers_parts else None
    )


def settle(ctx: ServiceContext, visit: Visit, on: date) -> Settlement:
    wo = visit.work_order
    used = parts_used(ctx.session, wo.id)
    catalogue = parts_by_sku(ctx.session, list(used))
    charges = [
        PartCharge(sku, catalogue[sku].name, qty, catalogue[sku].unit_price) for sku, qty in used.items()
    ]
    result = bill(
        rates_for(ctx, wo.territory_id),
        timesheet.total_minutes(ctx, visit, "work"),
        timesheet.total_minutes(ctx, visit, "travel"),
        charges,
        coverage_for(wo, on),
    )
    row = Settlement(
        work_order_id=wo.id,
        visit_id=visit.id,
        currency=result.currency,
        labour_amount=result.labour_amount,
        parts_amount=result.parts_amount,
        covered_amount=result.covered_amount,
        customer_amount=result.customer_amount,
        lines=_lines(result),
        computed_at=ctx.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    emit(
        ctx,
        "settlement.computed",
        "work_order",
        wo.id,
        {
            "work_order_id": wo.id,
            "visit_id": visit.id,
            "currency": result.currency,
            "labour_amount": str(result.labour_amount),
            "parts_amount": str(result.parts_amount),
            "covered_amount": str(result.covered_amount),
            "customer_amount": str(result.customer_amount),
        },
    )
    return row


def _lines(result: Bill) -> list[dict[str, str | None]]:
    return [
        {
            "kind": line.kind,
            "description": line.description,
            "quantity": format(line.quantity.quantize(Decimal("0.01")).normalize(), "f"),
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
            "covered_by": line.covered_by,
        }
        for line in result.lines
    ]


def settlement_info(row: Settlement) -> wire.SettlementInfo:
    return wire.SettlementInfo(
        currency=row.currency,
        labour_amount=str(row.labour_amount),
        parts_amount=str(row.parts_amount),
        covered_amount=str(row.covered_amount),
        customer_amount=str(row.customer_amount),
        lines=[wire.SettlementLine(**line) for line in row.lines],
    )
