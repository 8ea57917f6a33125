"""ERP / finance sync: parts consumed → stock-issue documents, settlements → invoice drafts.

Both are read from the outbox (the events `stock.consumed` and `settlement.computed`), so a document
exists exactly when its change committed; its id is the event id, stable across exports. Webhook
subscribers get the same events as they happen; the export gives a period as CSV or JSON. The ERP
confirms each document once (`erp_confirmations` is unique per document): a repeat of the same answer is
acknowledged again, a different answer is a conflict.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import Meta

from automation.models import ErpConfirmation
from automation.store import insert_ignore
from core.domain.errors import Conflict, Invalid
from core.services.common import Input
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import OutboxEvent

Kind = Literal["stock_issue", "invoice_draft"]
EVENT_OF: dict[str, str] = {"stock_issue": "stock.consumed", "invoice_draft": "settlement.computed"}


class ConfirmationInput(Input):
    document_id: Annotated[str, Meta(min_length=1, max_length=64)]
    kind: Kind
    erp_reference: Annotated[str, Meta(min_length=1, max_length=200)]
    status: Literal["accepted", "rejected"] = "accepted"
    message: Annotated[str, Meta(max_length=2000)] = ""


def documents(ctx: ServiceContext, kind: Kind, start: datetime, end: datetime) -> list[dict[str, Any]]:
    if end <= start:
        raise Invalid("the period must end after it starts", field="to")
    events = list(
        ctx.session.scalars(
            sa.select(OutboxEvent)
            .where(
                OutboxEvent.type == EVENT_OF[kind],
                OutboxEvent.occurred_at >= start,
                OutboxEvent.occurred_at < end,
            )
            .order_by(OutboxEvent.seq)
        )
    )
    confirmed = {
        c.document_id: c
        for c in ctx.session.scalars(
            sa.select(ErpConfirmation).where(
                ErpConfirmation.document_id.in_([str(e.event_id) for e in events])
            )
        )
    }
    out = []
    for e in events:
        c = confirmed.get(str(e.event_id))
        doc: dict[str, Any] = {
            "document_id": str(e.event_id),
            "kind": kind,
            "occurred_at": e.occurred_at.isoformat(),
            "work_order_id": e.subject_id,
            "reference": f"WO-{e.subject_id:07d}",
            "erp_status": c.status if c else "unconfirmed",
            "erp_reference": c.erp_reference if c else None,
        }
        data = e.data or {}
        if kind == "stock_issue":
            doc["location_code"] = data.get("location_code")
            doc["lines"] = [
                {"sku": ln.get("sku"), "quantity": ln.get("quantity")} for ln in data.get("lines", [])
            ]
        else:
            for key in (
                "visit_id",
                "currency",
                "labour_amount",
                "parts_amount",
                "covered_amount",
                "customer_amount",
            ):
                doc[key] = data.get(key)
        out.append(doc)
    return out


def to_csv(kind: Kind, docs: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    base = ["document_id", "occurred_at", "work_order_id", "reference", "erp_status", "erp_reference"]
    if kind == "stock_issue":
        w.writerow([*base, "location_code", "sku", "quantity"])
        for d in docs:
            for line in d["lines"]:
                w.writerow([*(d[k] for k in base), d["location_code"], line["sku"], line["quantity"]])
    else:
        money = ["currency", "labour_amount", "parts_amount", "covered_amount", "customer_amount"]
        w.writerow([*base, *money])
        for d in docs:
            w.writerow([*(d[k] for k in base), *(d[k] for k in money)])
    return buf.getvalue()


def confirm(
    ctx: ServiceContext, data: ConfirmationInput, token_id: int | None
) -> tuple[ErpConfirmation, bool]:
    """Record the ERP's answer once; (row, created). The same answer again is fine, a different one is not."""
    try:
        event_id = uuid.UUID(data.document_id)
    except ValueError as exc:
        raise Invalid("not a document id this system exported", field="document_id") from exc
    evt = ctx.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.event_id == event_id))
    if evt is None or evt.type != EVENT_OF[data.kind]:
        raise Invalid(f"no {data.kind} document {data.document_id}", field="document_id")
    new = insert_ignore(
        ctx.session,
        ErpConfirmation,
        {
            "document_id": data.document_id,
            "kind": data.kind,
            "erp_reference": data.erp_reference,
            "status": data.status,
            "message": data.message,
            "confirmed_at": ctx.now(),
            "token_id": token_id,
        },
    )
    row = ctx.session.scalars(
        sa.select(ErpConfirmation).where(ErpConfirmation.document_id == data.document_id)
    ).one()
    if new is None:
        ctx.session.rollback()
        if (row.erp_reference, row.status, row.kind) != (data.erp_reference, data.status, data.kind):
            raise Conflict(
                f"document {data.document_id} was already confirmed as {row.status} {row.erp_reference}"
            )
        return row, False
    audit(
        ctx,
        "work_order",
        evt.subject_id,
        f"erp_{data.status}",
        reason=data.message or None,
        data={"document_id": data.document_id, "kind": data.kind, "erp_reference": data.erp_reference},
    )
    emit(
        ctx,
        "erp.confirmed",
        "work_order",
        evt.subject_id,
        {
            "document_id": data.document_id,
            "kind": data.kind,
            "erp_reference": data.erp_reference,
            "status": data.status,
        },
    )
    ctx.session.commit()
    return row, True


def confirmation_out(row: ErpConfirmation) -> dict[str, Any]:
    return {
        "document_id": row.document_id,
        "kind": row.kind,
        "erp_reference": row.erp_reference,
        "status": row.status,
        "message": row.message,
        "confirmed_at": row.confirmed_at.isoformat(),
    }
