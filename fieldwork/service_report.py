"""Gather a job's record from the database into the service report (`fieldwork.report` draws it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.services.context import ServiceContext
from core.store.models import Photo, WorkOrder
from fieldwork import checklists, thumbnails
from fieldwork.models import Settlement, SignOff, WorkOrderNote
from fieldwork.report import ReportData, render
from fieldwork.storage import BlobStore
from inventory.read_model import parts_used

MAX_PHOTOS = 12


def service_report(ctx: ServiceContext, store: BlobStore, wo: WorkOrder) -> bytes:
    zone = ZoneInfo(wo.site.territory.timezone)
    visit = wo.visits[-1] if wo.visits else None

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(zone) if at is not None else None

    record = ctx.session.get(SignOff, visit.id) if visit is not None else None
    settlement = (
        ctx.session.scalar(sa.select(Settlement).where(Settlement.visit_id == visit.id)) if visit else None
    )
    sheet = checklists.checklist(ctx, wo)
    photos = ctx.session.scalars(
        sa.select(Photo).where(Photo.work_order_id == wo.id).order_by(Photo.id).limit(MAX_PHOTOS)
    ).all()
    notes = ctx.session.scalars(
        sa.select(WorkOrderNote).where(WorkOrderNote.work_order_id == wo.id).order_by(WorkOrderNote.id)
    ).all()
    data = ReportData(
        reference=wo.reference,
        title=wo.title,
        status=wo.status,
        customer=wo.customer.name,
        site=wo.site.name,
        address=wo.site.address,
        asset=f"{wo.asset.model.name} · {wo.asset.serial}" if wo.asset else None,
        engineer=visit.engineer.name if visit else None,
        timeline=[
            ("Reported / 报修", local(wo.created_at)),
            ("Set off / 出发", local(visit.en_route_at) if visit else None),
            ("On site / 到达", local(visit.on_site_at) if visit else None),
            ("Work done / 完工", local(visit.work_done_at) if visit else None),
            ("Signed off / 签字", local(visit.signed_off_at) if visit else None),
        ],
        checklist=[
            (f"{i.label}" + (f" / {i.label_zh}" if i.label_zh else ""), _answer(i.answer))
            for i in sheet.items
        ],
        notes=[(n.written_at.astimezone(zone), n.author, n.text) for n in notes],
        parts=sorted(parts_used(ctx.session, wo.id).items()),
        settlement=(
            {
                "currency": settlement.currency,
                "covered_amount": str(settlement.covered_amount),
                "customer_amount": str(settlement.customer_amount),
                "lines": settlement.lines,
            }
            if settlement
            else None
        ),
        photos=[
            (thumbnails.thumbnail_of(ctx, store, p.content_hash), f"{p.category}: {p.caption or ''}")
            for p in photos
        ],
    )
    if record is not None:
        data.resolution_code, data.resolution_notes = record.resolution_code, record.resolution_notes
        data.signer_name, data.signed_at = record.signer_name, local(record.signed_at)
        data.signature_png = store.get(record.signature_hash) if record.signature_hash else None
        data.signature_strokes = record.signature_strokes
        data.customer_absent_reason = record.customer_absent_reason
        data.rating, data.rating_comment = record.rating, record.rating_comment
    return render(data)


def _answer(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes / 是" if value else "no / 否"
    return str(value)
