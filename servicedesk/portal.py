"""The customer portal's use cases. Every query is scoped to the signed-in customer's company first.

Another company's record is answered exactly like a missing one (404 / the same 422 text), so ids leak
nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import WorkOrderStatus
from core.domain.workorders import Source
from core.services import sla, workorders
from core.services.common import Id, Input, Name
from core.services.context import Role, ServiceContext
from core.services.events import audit
from core.store.models import Asset, AuditEvent, Site, WorkOrder
from servicedesk import attachments as att
from servicedesk import deflection, intake, knowledge, surveys
from servicedesk.config import DeskConfig
from servicedesk.models import KbArticle, TicketAttachment
from servicedesk.triage import coverage_of


class PortalRequestInput(Input):
    description: Annotated[str, Meta(min_length=1, max_length=20_000)]
    title: Name | None = None
    asset_id: Id | None = None
    site_id: Id | None = None
    preferred_windows: Annotated[list[workorders.Window], Meta(max_length=5)] = []


def tenant(ctx: ServiceContext) -> int:
    if ctx.actor.role is not Role.CUSTOMER or ctx.actor.customer_id is None:
        raise NotFound("no customer account")
    return ctx.actor.customer_id


def sites(ctx: ServiceContext) -> list[dict[str, Any]]:
    rows = ctx.session.scalars(sa.select(Site).where(Site.customer_id == tenant(ctx)).order_by(Site.id))
    return [{"id": s.id, "name": s.name, "address": s.address} for s in rows]


def assets(ctx: ServiceContext) -> list[dict[str, Any]]:
    customer_id = tenant(ctx)
    today = ctx.now().date()
    rows = ctx.session.scalars(
        sa.select(Asset)
        .join(Site, Asset.site_id == Site.id)
        .where(Site.customer_id == customer_id)
        .order_by(Asset.id)
    )
    out = []
    for a in rows:
        contract = sla.active_contract(ctx.session, customer_id, a, today)
        cov = coverage_of(
            today,
            a.warranty_ends_on,
            (contract.number, contract.tier, contract.ends_on, contract.covers_labour, contract.covers_parts)
            if contract
            else None,
        )
        out.append(
            {
                "id": a.id,
                "site_id": a.site_id,
                "serial": a.serial,
                "name": a.name,
                "model": a.model.name,
                "coverage": cov,
            }
        )
    return out


def report_ready(wo: WorkOrder) -> bool:
    return wo.status in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED)


def work_order(ctx: ServiceContext, wo_id: int) -> WorkOrder:
    wo = ctx.session.get(WorkOrder, wo_id)
    if wo is None or wo.customer_id != tenant(ctx):
        raise NotFound(f"work order {wo_id} does not exist")
    return wo


def list_work_orders(ctx: ServiceContext, open_only: bool) -> list[dict[str, Any]]:
    query = sa.select(WorkOrder).where(WorkOrder.customer_id == tenant(ctx))
    if open_only:
        query = query.where(WorkOrder.status.notin_(["completed", "closed", "cancelled"]))
    rows = ctx.session.scalars(query.order_by(WorkOrder.id.desc()).limit(200))
    return [summary(wo) for wo in rows]


def summary(wo: WorkOrder) -> dict[str, Any]:
    return {
        "id": wo.id,
        "reference": wo.reference,
        "title": wo.title,
        "status": wo.status,
        "priority": f"P{wo.priority}",
        "source": wo.source,
        "site_id": wo.site_id,
        "asset_id": wo.asset_id,
        "created_at": wo.created_at.isoformat(),
    }


_ETA_STATES = (WorkOrderStatus.DISPATCHED, WorkOrderStatus.IN_PROGRESS)


def detail(ctx: ServiceContext, wo_id: int) -> dict[str, Any]:
    wo = work_order(ctx, wo_id)
    events = ctx.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.subject_type == "work_order",
            AuditEvent.subject_id == wo.id,
            AuditEvent.action.in_(["created", "transitioned"]),
        )
        .order_by(AuditEvent.id)
    )
    timeline = [{"at": e.at.isoformat(), "status": e.to_state} for e in events]
    visit = workorders.current_visit(wo)
    eta = None
    engineer = None
    if visit is not None and wo.status in _ETA_STATES:
        when = visit.eta or visit.planned_start
        eta = when.isoformat() if when else None
        # First name only: the customer needs to know who comes, not the engineer's record.
        engineer = visit.engineer.name
    done = report_ready(wo)
    return {
        **summary(wo),
        "description": wo.description,
        "timeline": timeline,
        "eta": eta,
        "engineer": engineer,
        "respond_by": wo.respond_by.isoformat() if wo.respond_by else None,
        "service_report_available": done,
        "service_report_path": f"/portal/work-orders/{wo.id}/report.pdf" if done else None,
        "attachments": [attachment_out(a, "/portal") for a in attachments_of(ctx, wo.id)],
    }


def open_request(ctx: ServiceContext, cfg: DeskConfig, data: PortalRequestInput) -> intake.Outcome:
    customer_id = tenant(ctx)
    site_id = data.site_id
    if data.asset_id is not None:
        asset = ctx.session.get(Asset, data.asset_id)
        if asset is None or asset.site.customer_id != customer_id:
            raise Invalid(f"asset {data.asset_id} does not exist", field="asset_id")
        if site_id is not None and asset.site_id != site_id:
            raise Invalid(f"asset {asset.id} is not at site {site_id}", field="asset_id")
        site_id = asset.site_id
    if site_id is not None:
        site = ctx.session.get(Site, site_id)
        if site is None or site.customer_id != customer_id:
            raise Invalid(f"site {site_id} does not exist", field="site_id")
    for i, w in enumerate(data.preferred_windows):
        if w.end <= w.start:
            raise Invalid("a window must end after it starts", field=f"preferred_windows[{i}].end")
    item = intake.Incoming(
        channel="portal",
        source=Source.PORTAL,
        sender=ctx.actor.name,
        subject=data.title or "",
        body=data.description,
        customer_id=customer_id,
        site_id=site_id,
        asset_id=data.asset_id,
        windows=list(data.preferred_windows),
    )
    result = intake.receive(ctx, cfg, item)
    if result.work_order is not None:
        deflection.mark_submitted(ctx, cfg, customer_id, result.work_order.id)
    return result


# ---------------------------------------------------------------- attachments (photos first)


def add_attachment(
    ctx: ServiceContext, cfg: DeskConfig, wo_id: int, filename: str, data: bytes
) -> TicketAttachment:
    """A file on one's own work order: size-bounded and checked by its bytes, like an e-mail's."""
    wo = work_order(ctx, wo_id)
    verdict = att.check(data)
    if not verdict.ok:
        raise Invalid(f"this file was not accepted: {verdict.reason}", field="file")
    if cfg.blobs is None:
        raise Conflict("no blob storage is configured")
    count = ctx.session.scalar(
        sa.select(sa.func.count())
        .select_from(TicketAttachment)
        .where(TicketAttachment.work_order_id == wo.id)
    )
    if (count or 0) >= att.MAX_ATTACHMENTS:
        raise Conflict(f"{wo.reference} already has {att.MAX_ATTACHMENTS} attachments")
    row = TicketAttachment(
        work_order_id=wo.id,
        filename=_clean_name(filename),
        content_type=verdict.content_type,
        size=len(data),
        blob=cfg.blobs.put(data),
        author=ctx.actor.name,
        author_kind="customer",
        created_at=ctx.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit(ctx, "work_order", wo.id, "attachment_added", data={"attachment_id": row.id, "size": row.size})
    ctx.session.commit()
    return row


def _clean_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')
    return cleaned.strip()[:200] or "attachment"


def attachments_of(ctx: ServiceContext, wo_id: int) -> list[TicketAttachment]:
    return list(
        ctx.session.scalars(
            sa.select(TicketAttachment)
            .where(TicketAttachment.work_order_id == wo_id)
            .order_by(TicketAttachment.id)
        )
    )


def attachment(ctx: ServiceContext, wo_id: int, attachment_id: int) -> TicketAttachment:
    row = ctx.session.get(TicketAttachment, attachment_id)
    if row is None or row.work_order_id != wo_id:
        raise NotFound(f"attachment {attachment_id} does not exist")
    return row


def attachment_out(a: TicketAttachment, base: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "author_kind": a.author_kind,
        "created_at": a.created_at.isoformat(),
        "path": f"{base}/work-orders/{a.work_order_id}/attachments/{a.id}",
    }


# ---------------------------------------------------------------- self-service and surveys


def suggest(ctx: ServiceContext, text: str, asset_id: int | None) -> list[tuple[KbArticle, float]]:
    """Public articles for what the customer is typing (boosted by the picked asset's model)."""
    model = None
    if asset_id is not None:
        asset = ctx.session.get(Asset, asset_id)
        if asset is not None and asset.site.customer_id == tenant(ctx):
            model = asset.model.code
    if not text.strip():
        return []
    return knowledge.search(ctx, text[:200], public_only=True, asset_model=model)[:5]


def pending_surveys(ctx: ServiceContext) -> list[dict[str, Any]]:
    out = []
    for inv in surveys.pending_for(ctx, tenant(ctx)):
        wo = ctx.session.get_one(WorkOrder, inv.work_order_id)
        out.append({**surveys.pending_out(inv, wo.reference), "title": wo.title})
    return out
