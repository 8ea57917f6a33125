"""Attachment checks of our own: a size bound and the bytes' real type (never the sender's word for it)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20

# Magic numbers of what a customer sensibly sends: photos, PDFs, office documents, plain text.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    content_type: str
    reason: str = ""


def sniff(data: bytes) -> str | None:
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1") or data[8:12] == b"WEBP":
        return "image/heic" if b"ftyp" in data[4:8] else "image/webp"
    if _is_text(data):
        return "text/plain"
    return None


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4 KiB boundary is still text.
        return exc.start >= len(head) - 4
    return True


def check(data: bytes) -> Verdict:
    if len(data) > MAX_ATTACHMENT_BYTES:
        return Verdict(False, "", f"larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind is None:
        return Verdict(False, "", "not a photo, PDF, office document or text file")
    return Verdict(True, kind)
