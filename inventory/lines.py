"""Part lines as clients send them ({sku, quantity, serials}) and their checks against the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec
import sqlalchemy as sa
from msgspec import Meta
from sqlalchemy.orm import Session, lazyload

from core.domain.errors import Invalid
from inventory.models import Part

# Printable, no surrounding spaces: SKUs are typed into CSVs and scanned from labels.
Sku = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^\S(?:.*\S)?$")]
SerialNo = Annotated[str, Meta(min_length=1, max_length=120, pattern=r"^\S(?:.*\S)?$")]
Quantity = Annotated[int, Meta(ge=1, le=1_000_000)]
Serials = Annotated[list[SerialNo], Meta(max_length=1000)]


class PartLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity = 1
    # For serial-tracked parts: exactly `quantity` serial numbers; for the others: none.
    serials: Serials = []


Lines = Annotated[list[PartLine], Meta(min_length=1, max_length=200)]


@dataclass(frozen=True, slots=True)
class Resolved:
    part: Part
    quantity: int
    serials: tuple[str, ...]


def parts_by_sku(session: Session, skus: Sequence[str]) -> dict[str, Part]:
    # Moving stock never needs the compatible models: skip loading them (a second query per call).
    query = sa.select(Part).where(Part.sku.in_(set(skus))).options(lazyload(Part.compatible))
    return {p.sku: p for p in session.scalars(query)}


def resolve(session: Session, lines: Sequence[PartLine], field: str = "lines") -> list[Resolved]:
    """Each line's part, with its serial numbers checked against how the part is tracked."""
    parts = parts_by_sku(session, [line.sku for line in lines])
    seen: set[str] = set()
    out = []
    for i, line in enumerate(lines):
        at = f"{field}[{i}]"
        part = parts.get(line.sku)
        if part is None:
            raise Invalid(f"no part with SKU {line.sku!r} in the catalogue", field=f"{at}.sku")
        if line.sku in seen:
            raise Invalid(f"{line.sku} is listed twice; put it on one line", field=f"{at}.sku")
        seen.add(line.sku)
        check_serials(part, line.quantity, line.serials, f"{at}.serials")
        out.append(Resolved(part, line.quantity, tuple(line.serials)))
    return out


def check_serials(part: Part, quantity: int, serials: Sequence[str], field: str) -> None:
    if not part.serial_tracked:
        if serials:
            raise Invalid(f"{part.sku} is not serial-tracked; send no serial numbers", field=field)
        return
    if len(serials) != quantity:
        raise Invalid(
            f"{part.sku} is serial-tracked: give {quantity} serial number(s), one per unit "
            f"({len(serials)} given)",
            field=field,
        )
    if len(set(serials)) != len(serials):
        raise Invalid(f"a serial number of {part.sku} is listed twice", field=field)
