"""Keyset (cursor) pagination: stable under inserts, and as fast on page 2,000 as on page 1."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec

from core.domain.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


class _Cursor(msgspec.Struct, array_like=True):
    sort: str
    key: Any
    id: int


def encode_cursor(sort: str, key: object, id_: int) -> str:
    if isinstance(key, datetime):
        key = key.isoformat()
    raw = msgspec.json.encode(_Cursor(sort, key, id_))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (sort key, id) after which the next page starts. A cursor only fits the sort it came from."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise Invalid(
            "the cursor is not one this API issued; start again without it", field="cursor"
        ) from exc
    if decoded.sort != sort:
        raise Invalid(f"this cursor belongs to sort={decoded.sort}, not sort={sort}", field="cursor")
    return decoded.key, decoded.id


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit
