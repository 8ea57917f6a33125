"""Photos from site: checked by content, stored once per content, tied to the work order."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from core.domain.errors import Invalid
from core.domain.geo import Point
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Photo
from fieldwork.media import sniff_image
from fieldwork.moves import my_visit
from fieldwork.storage import BlobStore

MAX_PHOTO_BYTES = 15 * 1024 * 1024
CATEGORIES = ("before", "after", "other")


def add_photo(
    ctx: ServiceContext,
    store: BlobStore,
    visit_id: int,
    data: bytes,
    *,
    category: str,
    caption: str | None,
    taken_at: datetime | None,
    lat: float | None,
    lon: float | None,
) -> tuple[Photo, bool]:
    """The photo and whether it is new; the same bytes for the same job come back as the first upload."""
    visit = my_visit(ctx, visit_id)
    if not data:
        raise Invalid("the file is empty", field="file")
    if len(data) > MAX_PHOTO_BYTES:
        raise Invalid(f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB", field="file")
    content_type = sniff_image(data[:32])
    if content_type is None:
        raise Invalid(
            "the file is not a JPEG, PNG or HEIC photo (judged by its content, not its name)", field="file"
        )
    if category not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither", field="lat" if lat is None else "lon")
    if lat is not None and lon is not None:
        try:
            Point(lat, lon)
        except ValueError as exc:
            raise Invalid(str(exc), field="lat" if "latitude" in str(exc) else "lon") from exc
    if taken_at is not None and (taken_at.tzinfo is None or taken_at > ctx.now()):
        raise Invalid("taken_at must be a past time with a time zone", field="taken_at")
    key = store.put(data)
    existing = ctx.session.scalars(
        sa.select(Photo).where(Photo.work_order_id == visit.work_order_id, Photo.content_hash == key)
    ).first()
    if existing is not None:
        return existing, False
    photo = Photo(
        work_order_id=visit.work_order_id,
        visit_id=visit.id,
        content_hash=key,
        content_type=content_type,
        size_bytes=len(data),
        category=category,
        caption=caption,
        taken_at=taken_at,
        lat=lat,
        lon=lon,
        uploaded_by=ctx.actor.name,
        created_at=ctx.now(),
    )
    ctx.session.add(photo)
    ctx.session.flush()
    audit(
        ctx,
        "work_order",
        visit.work_order_id,
        "photo_added",
        data={"photo_id": photo.id, "category": category},
    )
    emit(
        ctx,
        "photo.added",
        "work_order",
        visit.work_order_id,
        {"photo_id": photo.id, "visit_id": visit.id, "engineer_id": visit.engineer_id},
    )
    ctx.session.commit()
    return photo, True
