"""Stock counts in and out as CSV. A count sets the books to what was counted: each difference becomes
an `adjust` movement carrying the reason, all in one transaction, or nothing at all.

Columns: location (code), sku, quantity (counted on hand), serials (serial-tracked parts: the serial
numbers counted, `;`-separated), reason (optional when the whole file has one).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa

from core.services.context import ServiceContext
from core.services.events import audit, emit
from inventory.csv_read import CsvRejected, Row, RowError, join_list, read_rows, split_list
from inventory.ledger import SerialStatus
from inventory.models import Part, StockLevel, StockLocation, StockSerial
from inventory.movements import apply_adjustment
from inventory.posting import LEVELS, Key

COLUMNS = ("location", "sku", "quantity", "serials", "reason")
REQUIRED = ("location", "sku", "quantity")
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True, slots=True)
class CountRow:
    line: int
    location: StockLocation
    part: Part
    counted: int
    serials: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    row: CountRow
    delta: int = 0
    # Serial-tracked parts: counted here but not on the books, and on the books but not counted.
    found: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass
class CountsImported:
    rows: int = 0
    adjusted: int = 0
    unchanged: int = 0
    changes: list[dict[str, object]] = field(default_factory=list)


def import_counts(ctx: ServiceContext, text: bytes | str, reason: str | None) -> CountsImported:
    """Apply a count sheet. `reason` is for rows without their own; every row needs one or the other."""
    raw_rows = read_rows(text, COLUMNS, REQUIRED)
    errors: list[RowError] = []
    rows = _parse(ctx, raw_rows, reason, errors)
    if errors:
        raise CsvRejected(errors)
    changes = _plan(ctx, rows, errors)
    if errors:
        ctx.session.rollback()
        raise CsvRejected(errors)
    result = CountsImported(rows=len(rows), adjusted=len(changes), unchanged=len(rows) - len(changes))
    for c in changes:
        r = c.row
        if c.found:
            apply_adjustment(ctx, r.part, r.location.id, len(c.found), r.reason, list(c.found))
        if c.missing:
            apply_adjustment(ctx, r.part, r.location.id, -len(c.missing), r.reason, list(c.missing))
        if c.delta and not r.part.serial_tracked:
            apply_adjustment(ctx, r.part, r.location.id, c.delta, r.reason, [])
        change = c.delta if not r.part.serial_tracked else len(c.found) - len(c.missing)
        result.changes.append(
            {"line": r.line, "location": r.location.code, "sku": r.part.sku, "change": change}
        )
    summary = {
        "rows": result.rows,
        "adjusted": result.adjusted,
        "unchanged": result.unchanged,
        "reason": reason,
    }
    audit(
        ctx,
        "stock_location",
        0,
        "stock_counted",
        reason=reason,
        data={**summary, "changes": result.changes[:1000]},
    )
    emit(ctx, "stock.counted", "stock_location", 0, summary)
    ctx.session.commit()
    return result


def _parse(
    ctx: ServiceContext, raw_rows: list[Row], reason: str | None, errors: list[RowError]
) -> list[CountRow]:
    codes = {r.cells.get("location", "") for r in raw_rows}
    skus = {r.cells.get("sku", "") for r in raw_rows}
    locations = {
        loc.code: loc
        for loc in ctx.session.scalars(sa.select(StockLocation).where(StockLocation.code.in_(codes)))
    }
    parts = {p.sku: p for p in ctx.session.scalars(sa.select(Part).where(Part.sku.in_(skus)))}
    rows: list[CountRow] = []
    seen: dict[tuple[str, str], int] = {}
    serial_seen: dict[tuple[int, str], int] = {}
    for raw in raw_rows:
        if raw.width_error:
            errors.append(RowError(raw.line, "row", raw.width_error))
            continue
        row = _row(raw, locations, parts, reason, errors)
        if row is None:
            continue
        key = (row.location.code, row.part.sku)
        if key in seen:
            errors.append(
                RowError(
                    raw.line, "sku", f"{row.part.sku} at {row.location.code} is already on line {seen[key]}"
                )
            )
            continue
        seen[key] = raw.line
        for s in row.serials:
            if (row.part.id, s) in serial_seen:
                errors.append(
                    RowError(
                        raw.line, "serials", f"serial {s} is already on line {serial_seen[(row.part.id, s)]}"
                    )
                )
            serial_seen[(row.part.id, s)] = raw.line
        rows.append(row)
    return rows


def _row(
    raw: Row,
    locations: dict[str, StockLocation],
    parts: dict[str, Part],
    reason: str | None,
    errors: list[RowError],
) -> CountRow | None:
    cells, line = raw.cells, raw.line
    found: list[RowError] = []
    location = locations.get(cells.get("location", ""))
    if location is None:
        found.append(RowError(line, "location", f"no stock location with code {cells.get('location', '')!r}"))
    part = parts.get(cells.get("sku", ""))
    if part is None:
        found.append(RowError(line, "sku", f"no part with SKU {cells.get('sku', '')!r}"))
    counted = _quantity(line, cells.get("quantity", ""), found)
    serial_numbers = tuple(split_list(cells.get("serials", "")))
    if part is not None and counted is not None:
        found.extend(_serial_problems(line, part, counted, serial_numbers))
    why = cells.get("reason") or reason
    if not why:
        found.append(
            RowError(line, "reason", "an adjustment needs a reason: fill the column or give one for the file")
        )
    elif len(why) > 500:
        found.append(RowError(line, "reason", "at most 500 characters"))
    errors.extend(found)
    if found or location is None or part is None or counted is None or not why:
        return None
    return CountRow(line, location, part, counted, serial_numbers, why)


def _quantity(line: int, text: str, found: list[RowError]) -> int | None:
    try:
        counted = int(text)
    except ValueError:
        found.append(RowError(line, "quantity", f"{text!r} is not a whole number"))
        return None
    if not 0 <= counted <= MAX_QUANTITY:
        found.append(RowError(line, "quantity", f"{counted} is not between 0 and {MAX_QUANTITY}"))
        return None
    return counted


def _serial_problems(line: int, part: Part, counted: int, serial_numbers: tuple[str, ...]) -> list[RowError]:
    if not part.serial_tracked:
        if serial_numbers:
            return [RowError(line, "serials", f"{part.sku} is not serial-tracked; leave serials empty")]
        return []
    if len(serial_numbers) != counted:
        given = len(serial_numbers)
        message = f"{part.sku} is serial-tracked: list the {counted} serial numbers counted ({given} given)"
        return [RowError(line, "serials", message)]
    if len(set(serial_numbers)) != len(serial_numbers):
        return [RowError(line, "serials", "a serial number is listed twice")]
    return []


def _plan(ctx: ServiceContext, rows: list[CountRow], errors: list[RowError]) -> list[Change]:
    """What each row changes, against the books as they are (locked, so nothing moves meanwhile)."""
    current = _lock_levels(ctx, sorted({(r.part.id, r.location.id) for r in rows}))
    changes: list[Change] = []
    for r in rows:
        on_hand, reserved = current.get((r.part.id, r.location.id), (0, 0))
        if r.counted < reserved:
            message = f"counted {r.counted} but {reserved} are reserved for work orders; release them first"
            errors.append(RowError(r.line, "quantity", message))
            continue
        if r.part.serial_tracked:
            change = _serial_change(ctx, r, errors)
            if change is not None and (change.found or change.missing):
                changes.append(change)
        elif r.counted != on_hand:
            changes.append(Change(r, delta=r.counted - on_hand))
    return changes


def _lock_levels(ctx: ServiceContext, keys: list[Key]) -> dict[Key, tuple[int, int]]:
    found: dict[Key, tuple[int, int]] = {}
    conn, c = ctx.session.connection(), LEVELS.c
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            sa.select(c.part_id, c.location_id, c.on_hand, c.reserved)
            .where(sa.tuple_(c.part_id, c.location_id).in_(keys[start : start + 500]))
            .order_by(c.part_id, c.location_id)
            .with_for_update()
        )
        found.update({(r.part_id, r.location_id): (r.on_hand, r.reserved) for r in rows})
    return found


def _serial_change(ctx: ServiceContext, r: CountRow, errors: list[RowError]) -> Change | None:
    here = set(
        ctx.session.scalars(
            sa.select(StockSerial.serial).where(
                StockSerial.part_id == r.part.id,
                StockSerial.location_id == r.location.id,
                StockSerial.status == SerialStatus.IN_STOCK.value,
            )
        )
    )
    found = tuple(s for s in r.serials if s not in here)
    missing = tuple(sorted(here - set(r.serials)))
    if found:
        elsewhere = ctx.session.execute(
            sa.select(StockSerial.serial, StockSerial.status).where(
                StockSerial.part_id == r.part.id,
                StockSerial.serial.in_(found),
                StockSerial.status.in_([SerialStatus.IN_STOCK.value, SerialStatus.IN_TRANSIT.value]),
            )
        ).first()
        if elsewhere is not None:
            where = "on the road" if elsewhere.status == SerialStatus.IN_TRANSIT else "in stock elsewhere"
            errors.append(
                RowError(r.line, "serials", f"serial {elsewhere.serial} is {where}; move it, do not count it")
            )
            return None
    return Change(r, found=found, missing=missing)


def export_counts(ctx: ServiceContext, location_id: int | None = None) -> str:
    """A count sheet of what the books say is on hand (serial numbers listed), by location and SKU."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    query = (
        sa.select(
            StockLocation.id, StockLocation.code, Part.id, Part.sku, StockLevel.on_hand, Part.serial_tracked
        )
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .join(Part, Part.id == StockLevel.part_id)
        .where(StockLevel.on_hand > 0)
        .order_by(StockLocation.code, Part.sku)
    )
    if location_id is not None:
        query = query.where(StockLevel.location_id == location_id)
    for loc_id, code, part_id, sku, on_hand, tracked in ctx.session.execute(query):
        serial_numbers = ""
        if tracked:
            serial_numbers = join_list(
                ctx.session.scalars(
                    sa.select(StockSerial.serial)
                    .where(
                        StockSerial.part_id == part_id,
                        StockSerial.location_id == loc_id,
                        StockSerial.status == SerialStatus.IN_STOCK.value,
                    )
                    .order_by(StockSerial.serial)
                ).all()
            )
        writer.writerow([code, sku, on_hand, serial_numbers, ""])
    return out.getvalue()
