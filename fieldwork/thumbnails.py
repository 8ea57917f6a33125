"""Small JPEG previews of site photos for the dispatcher's screens (HEIC included), made once and kept."""

from __future__ import annotations

import io

import pillow_heif
import sqlalchemy as sa
from PIL import Image, ImageOps
from sqlalchemy.exc import IntegrityError

from core.services.context import ServiceContext
from fieldwork.models import PhotoThumbnail
from fieldwork.storage import BlobStore

pillow_heif.register_heif_opener()

SIZE = 320
# A photo bomb (a tiny file that decodes to gigapixels) must not take the server down.
Image.MAX_IMAGE_PIXELS = 80_000_000


def render(data: bytes, size: int = SIZE) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        # Phones store rotation as EXIF; the preview should stand the right way up.
        picture = ImageOps.exif_transpose(image).convert("RGB")
        picture.thumbnail((size, size))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()


def thumbnail_of(ctx: ServiceContext, store: BlobStore, photo_hash: str) -> bytes:
    known = ctx.session.scalar(
        sa.select(PhotoThumbnail.thumbnail_hash).where(PhotoThumbnail.photo_hash == photo_hash)
    )
    if known is not None and store.exists(known):
        return store.get(known)
    jpeg = render(store.get(photo_hash))
    key = store.put(jpeg)
    if known is None:
        ctx.session.add(PhotoThumbnail(photo_hash=photo_hash, thumbnail_hash=key))
        try:
            ctx.session.commit()
        except IntegrityError:
            # Another request made the same preview at the same moment: same bytes, same key.
            ctx.session.rollback()
    return jpeg
