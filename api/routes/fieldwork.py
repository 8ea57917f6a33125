"""The office's side of the work on site: checklist templates, rate cards, and what a job left behind
(checklist, notes, time, photos, signature, settlement, the service report)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, put
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from api.access import needs
from api.deps import Ctx, runtime
from core.domain.errors import Invalid, NotFound
from core.services.common import Input
from core.services.workorders import get_work_order
from core.store.models import Photo
from fieldwork import checklists, completion, thumbnails, timesheet
from fieldwork.models import RateCard, SignOff, WorkOrderNote
from fieldwork.service_report import service_report
from fieldwork.storage import BlobStore
from inventory.read_model import parts_used
from mobile_contract import wire


class TemplateOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    asset_model_id: int | None
    kind: str | None
    version: int
    items: list[dict[str, Any]]


def _template_out(t: Any) -> TemplateOut:
    return TemplateOut(
        id=t.id, name=t.name, asset_model_id=t.asset_model_id, kind=t.kind, version=t.version, items=t.items
    )


# msgspec cannot bound a Decimal; `put_rate_card` checks the range.
Amount = Decimal


class RateCardInput(Input):
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")]
    call_out_fee: Amount
    hourly_rate: Amount
    travel_hourly_rate: Amount
    increment_minutes: Annotated[int, Meta(ge=1, le=240)] = 15
    minimum_minutes: Annotated[int, Meta(ge=0, le=1440)] = 30
    territory_id: int | None = None


class RateCardOut(msgspec.Struct, kw_only=True):
    id: int
    territory_id: int | None
    currency: str
    call_out_fee: Decimal
    hourly_rate: Decimal
    travel_hourly_rate: Decimal
    increment_minutes: int
    minimum_minutes: int


class VisitRecord(msgspec.Struct, kw_only=True):
    visit_id: int
    engineer_id: int
    status: str
    time_entries: list[wire.TimeEntryInfo]
    resolution_code: str | None = None
    resolution_notes: str | None = None
    signer_name: str | None = None
    signed_at: Any = None
    signature_path: str | None = None
    signature_strokes: list[Any] | None = None
    customer_absent_reason: str | None = None
    rating: int | None = None
    rating_comment: str | None = None
    settlement: wire.SettlementInfo | None = None


class PhotoOut(msgspec.Struct, kw_only=True):
    id: int
    visit_id: int | None
    category: str
    caption: str | None
    content_type: str
    size_bytes: int
    taken_at: Any
    path: str
    thumbnail_path: str


class JobRecord(msgspec.Struct, kw_only=True):
    work_order_id: int
    reference: str
    checklist: wire.Checklist
    notes: list[wire.NoteInfo]
    parts_used: list[wire.StockLine]
    photos: list[PhotoOut]
    visits: list[VisitRecord]
    report_path: str


class FieldworkController(Controller):
    tags = ["work on site"]

    @get("/checklist-templates", opt=needs("setup.read"), sync_to_thread=True)
    def list_templates(self, ctx: Ctx) -> list[TemplateOut]:
        from fieldwork.models import ChecklistTemplate

        return [_template_out(t) for t in ctx.session.scalars(sa.select(ChecklistTemplate).order_by("id"))]

    @put("/checklist-templates", opt=needs("setup.write"), sync_to_thread=True)
    def save_template(self, ctx: Ctx, data: JSONBody[checklists.TemplateInput]) -> TemplateOut:
        """Create or replace the checklist of an asset model and/or a kind of work order."""
        return _template_out(checklists.save_template(ctx, data))

    @get("/rate-cards", opt=needs("setup.read"), sync_to_thread=True)
    def list_rate_cards(self, ctx: Ctx) -> list[RateCardOut]:
        return [_card_out(c) for c in ctx.session.scalars(sa.select(RateCard).order_by(RateCard.id))]

    @put("/rate-cards", opt=needs("setup.write"), sync_to_thread=True)
    def put_rate_card(self, ctx: Ctx, data: JSONBody[RateCardInput]) -> RateCardOut:
        """The labour rates of a territory (or the default, with no territory)."""
        for name in ("call_out_fee", "hourly_rate", "travel_hourly_rate"):
            if not Decimal(0) <= getattr(data, name) <= Decimal(1_000_000):
                raise Invalid("an amount between 0 and 1,000,000", field=name)
        card = ctx.session.scalar(
            sa.select(RateCard).where(
                RateCard.territory_id.is_(None)
                if data.territory_id is None
                else RateCard.territory_id == data.territory_id
            )
        )
        if card is None:
            card = RateCard()
            ctx.session.add(card)
        for name in RateCardInput.__struct_fields__:
            setattr(card, name, getattr(data, name))
        ctx.session.commit()
        return _card_out(card)

    @get("/work-orders/{wo_id:int}/record", opt=needs("work_orders.read"), sync_to_thread=True)
    def job_record(self, ctx: Ctx, wo_id: FromPath[int]) -> JobRecord:
        """Everything the job left behind: checklist, notes, parts, photos, time, signature, settlement."""
        wo = get_work_order(ctx, wo_id)
        notes = ctx.session.scalars(
            sa.select(WorkOrderNote).where(WorkOrderNote.work_order_id == wo.id).order_by(WorkOrderNote.id)
        )
        photos = ctx.session.scalars(sa.select(Photo).where(Photo.work_order_id == wo.id).order_by(Photo.id))
        return JobRecord(
            work_order_id=wo.id,
            reference=wo.reference,
            checklist=checklists.checklist(ctx, wo),
            notes=[
                wire.NoteInfo(
                    note_id=n.id,
                    work_order_id=n.work_order_id,
                    text=n.text,
                    author=n.author,
                    written_at=n.written_at,
                )
                for n in notes
            ],
            parts_used=[
                wire.StockLine(sku=s, quantity=q) for s, q in sorted(parts_used(ctx.session, wo.id).items())
            ],
            photos=[
                PhotoOut(
                    id=p.id,
                    visit_id=p.visit_id,
                    category=p.category,
                    caption=p.caption,
                    content_type=p.content_type,
                    size_bytes=p.size_bytes,
                    taken_at=p.taken_at,
                    path=f"/photos/{p.id}",
                    thumbnail_path=f"/photos/{p.id}/thumbnail",
                )
                for p in photos
            ],
            visits=[_visit_record(ctx, v) for v in wo.visits],
            report_path=f"/work-orders/{wo.id}/report.pdf",
        )

    @get("/photos/{photo_id:int}", opt=needs("work_orders.read"), sync_to_thread=True)
    def photo(self, request: Request[Any, Any, Any], ctx: Ctx, photo_id: FromPath[int]) -> Response[bytes]:
        photo = _photo(ctx, photo_id)
        return _image(_blobs(request).get(photo.content_hash), photo.content_type)

    @get("/photos/{photo_id:int}/thumbnail", opt=needs("work_orders.read"), sync_to_thread=True)
    def thumbnail(
        self, request: Request[Any, Any, Any], ctx: Ctx, photo_id: FromPath[int]
    ) -> Response[bytes]:
        """A JPEG preview, at most 320 px on its longer side (HEIC photos included)."""
        photo = _photo(ctx, photo_id)
        return _image(thumbnails.thumbnail_of(ctx, _blobs(request), photo.content_hash), "image/jpeg")

    @get("/work-orders/{wo_id:int}/report.pdf", opt=needs("work_orders.read"), sync_to_thread=True)
    def report(self, request: Request[Any, Any, Any], ctx: Ctx, wo_id: FromPath[int]) -> Response[bytes]:
        """The service report: job, timeline, checklist, notes, parts, settlement, photos, signature."""
        wo = get_work_order(ctx, wo_id)
        pdf = service_report(ctx, _blobs(request), wo)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{wo.reference}.pdf"'},
        )

    @get("/visits/{visit_id:int}/signature.png", opt=needs("work_orders.read"), sync_to_thread=True)
    def signature(
        self, request: Request[Any, Any, Any], ctx: Ctx, visit_id: FromPath[int]
    ) -> Response[bytes]:
        record = ctx.session.get(SignOff, visit_id)
        if record is None or record.signature_hash is None:
            raise NotFound(f"visit {visit_id} has no signature image")
        get_work_order(ctx, record.work_order_id)  # visibility
        return _image(_blobs(request).get(record.signature_hash), "image/png")


def _blobs(request: Request[Any, Any, Any]) -> BlobStore:
    store = runtime(request.app.state).blobs
    assert store is not None, "the blob store is wired at start-up"
    return store


def _photo(ctx: Ctx, photo_id: int) -> Photo:
    photo = ctx.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"photo {photo_id} does not exist")
    get_work_order(ctx, photo.work_order_id)  # someone else's job's photo looks like no photo
    return photo


def _image(data: bytes, content_type: str) -> Response[bytes]:
    # Content-addressed: the bytes under an id never change, so clients may keep them.
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def _card_out(c: RateCard) -> RateCardOut:
    return RateCardOut(
        id=c.id,
        territory_id=c.territory_id,
        currency=c.currency,
        call_out_fee=c.call_out_fee,
        hourly_rate=c.hourly_rate,
        travel_hourly_rate=c.travel_hourly_rate,
        increment_minutes=c.increment_minutes,
        minimum_minutes=c.minimum_minutes,
    )


def _visit_record(ctx: Ctx, visit: Any) -> VisitRecord:
    from fieldwork.models import Settlement

    record = ctx.session.get(SignOff, visit.id)
    settlement = ctx.session.scalar(sa.select(Settlement).where(Settlement.visit_id == visit.id))
    out = VisitRecord(
        visit_id=visit.id,
        engineer_id=visit.engineer_id,
        status=visit.status,
        time_entries=timesheet.listing(ctx, visit),
        settlement=completion.settlement_info(settlement) if settlement else None,
    )
    if record is not None:
        out.resolution_code, out.resolution_notes = record.resolution_code, record.resolution_notes
        out.signer_name, out.signed_at = record.signer_name, record.signed_at
        out.signature_path = f"/visits/{visit.id}/signature.png" if record.signature_hash else None
        out.signature_strokes = record.signature_strokes
        out.customer_absent_reason = record.customer_absent_reason
        out.rating, out.rating_comment = record.rating, record.rating_comment
    return out
