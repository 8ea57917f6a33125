"""Shared input types and small helpers for the use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta
from sqlalchemy.orm import Session

from core.domain.errors import Invalid, NotFound, StaleVersion

# Bounded everywhere: nothing a client sends may grow without limit.
Id = Annotated[int, Meta(ge=1, le=2**53 - 1)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=500)]
LongText = Annotated[str, Meta(max_length=20_000)]
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
SkillCode = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
Level = Annotated[int, Meta(ge=1, le=5)]
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Instant = Annotated[datetime, Meta(tz=True)]
Email = Annotated[str, Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Phone = Annotated[str, Meta(max_length=64)]

M = TypeVar("M")


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: a misspelt field is an error, not silently ignored."""


def get_or_404(session: Session, model: type[M], id_: int, what: str) -> M:
    obj = session.get(model, id_)
    if obj is None:
        raise NotFound(f"{what} {id_} does not exist")
    return obj


def get_ref(session: Session, model: type[M], id_: int, field: str, what: str) -> M:
    """A referenced id inside a request body: unknown → 422 naming the field."""
    obj = session.get(model, id_)
    if obj is None:
        raise Invalid(f"{what} {id_} does not exist", field=field)
    return obj


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(f"version {expected} is stale; the current version is {current}: reload and retry")


def apply_patch(obj: Any, patch: msgspec.Struct) -> dict[str, Any]:
    """Copy the fields the client sent (not UNSET) onto `obj`; return {field: new value} of real changes."""
    changed: dict[str, Any] = {}
    for name in patch.__struct_fields__:
        value = getattr(patch, name)
        if value is msgspec.UNSET:
            continue
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed[name] = value
    return changed
