"""What a file really is, judged by its first bytes, never by its name or the client's say-so."""

from __future__ import annotations

# ISO-BMFF brands used by HEIC/HEIF photos (iPhones and many Android cameras).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

IMAGE_TYPES = ("image/jpeg", "image/png", "image/heic")


def sniff_image(head: bytes) -> str | None:
    """The image type of a file from its first 16+ bytes, or None if it is not a photo we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None
