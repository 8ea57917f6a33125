"""CSV import and export of the parts catalogue (created or updated by SKU, all or nothing).

The export writes exactly the columns the import reads, so a sheet can go out and come back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.domain.errors import Conflict, Invalid
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import AssetModel
from inventory.catalogue import PartInput, stock_anywhere
from inventory.csv_read import CsvRejected, Row, RowError, flag, join_list, read_rows, split_list
from inventory.ledger import money
from inventory.models import Part, PartCompatibility

COLUMNS = (
    "sku",
    "name",
    "unit_of_measure",
    "unit_cost",
    "unit_price",
    "serial_tracked",
    "active",
    "compatible_models",
    "description",
)
REQUIRED = ("sku", "name", "unit_cost", "unit_price")


@dataclass(frozen=True, slots=True)
class PartRow:
    line: int
    data: PartInput
    active: bool
    model_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogueImported:
    rows: int
    created: int
    updated: int
    unchanged: int


def import_catalogue(ctx: ServiceContext, text: bytes | str) -> CatalogueImported:
    """Create or update parts by SKU; blank optional cells take the defaults."""
    errors: list[RowError] = []
    rows = _parse(read_rows(text, COLUMNS, REQUIRED), errors)
    models = dict(
        ctx.session.execute(
            sa.select(AssetModel.code, AssetModel.id).where(
                AssetModel.code.in_({c for r in rows for c in r.model_codes})
            )
        )
        .tuples()
        .all()
    )
    existing = {
        p.sku: p for p in ctx.session.scalars(sa.select(Part).where(Part.sku.in_([r.data.sku for r in rows])))
    }
    for r in rows:
        errors.extend(
            RowError(r.line, "compatible_models", f"no asset model with code {code!r}")
            for code in r.model_codes
            if code not in models
        )
        part = existing.get(r.data.sku)
        if part is not None and part.serial_tracked != r.data.serial_tracked and stock_anywhere(ctx, part.id):
            errors.append(
                RowError(
                    r.line, "serial_tracked", f"{part.sku} has stock; its serial tracking cannot change now"
                )
            )
    if errors:
        raise CsvRejected(errors)
    result = _apply(ctx, rows, existing, models)
    summary = {"rows": result.rows, "created": result.created, "updated": result.updated}
    audit(ctx, "part", 0, "catalogue_imported", data=summary)
    emit(ctx, "part.catalogue_imported", "part", 0, summary)
    ctx.session.commit()
    return result


def _parse(raw_rows: list[Row], errors: list[RowError]) -> list[PartRow]:
    rows: list[PartRow] = []
    seen: dict[str, int] = {}
    for raw in raw_rows:
        if raw.width_error:
            errors.append(RowError(raw.line, "row", raw.width_error))
            continue
        parsed = _part_row(raw, errors)
        if parsed is None:
            continue
        if parsed.data.sku in seen:
            errors.append(
                RowError(raw.line, "sku", f"{parsed.data.sku} is already on line {seen[parsed.data.sku]}")
            )
            continue
        seen[parsed.data.sku] = raw.line
        rows.append(parsed)
    return rows


def _part_row(raw: Row, errors: list[RowError]) -> PartRow | None:
    cells, line = raw.cells, raw.line
    found: list[RowError] = []
    data: dict[str, Any] = {"sku": cells.get("sku", ""), "name": cells.get("name", "")}
    for name in ("unit_cost", "unit_price"):
        try:
            data[name] = money(Decimal(cells.get(name, "")), name)
        except InvalidOperation:
            found.append(RowError(line, name, f"{cells.get(name, '')!r} is not an amount (e.g. 12.50)"))
        except Invalid as exc:
            found.append(RowError(line, name, exc.detail))
    for name in ("unit_of_measure", "description"):
        if cells.get(name):
            data[name] = cells[name]
    flags = {}
    for name, default in (("serial_tracked", False), ("active", True)):
        try:
            flags[name] = flag(cells.get(name, ""), default)
        except ValueError as exc:
            found.append(RowError(line, name, f"{cells[name]!r}: {exc}"))
    if found:
        errors.extend(found)
        return None
    data["serial_tracked"] = flags["serial_tracked"]
    try:
        parsed = msgspec.convert(data, PartInput)
    except msgspec.ValidationError as exc:
        errors.append(RowError(line, *_where(exc)))
        return None
    return PartRow(line, parsed, flags["active"], tuple(split_list(cells.get("compatible_models", ""))))


def _where(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec says "… - at `$.sku`": the column, and the message without the path."""
    message = str(exc)
    text, sep, path = message.partition(" - at `$.")
    return (path.rstrip("`").split("[")[0], text) if sep else ("row", message)


def _apply(
    ctx: ServiceContext, rows: list[PartRow], existing: dict[str, Part], models: dict[str, int]
) -> CatalogueImported:
    now = ctx.now()
    created = updated = 0
    for r in rows:
        d = r.data
        compatible = sorted({models[c] for c in r.model_codes})
        values: dict[str, Any] = {
            "name": d.name,
            "description": d.description,
            "unit_of_measure": d.unit_of_measure,
            "unit_cost": d.unit_cost,
            "unit_price": d.unit_price,
            "serial_tracked": d.serial_tracked,
            "active": r.active,
        }
        part = existing.get(d.sku)
        if part is None:
            links = [PartCompatibility(asset_model_id=m) for m in compatible]
            ctx.session.add(Part(sku=d.sku, **values, compatible=links, created_at=now, updated_at=now))
            created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(part, k) != v}
        relinked = [c.asset_model_id for c in part.compatible] != compatible
        if not changed and not relinked:
            continue
        for k, v in changed.items():
            setattr(part, k, v)
        if relinked:
            part.compatible = [PartCompatibility(asset_model_id=m) for m in compatible]
        part.updated_at = now
        updated += 1
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        ctx.session.rollback()
        raise Conflict("another import or edit changed the same SKUs at the same moment; try again") from exc
    return CatalogueImported(len(rows), created, updated, len(rows) - created - updated)


def export_catalogue(ctx: ServiceContext) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    codes = dict(ctx.session.execute(sa.select(AssetModel.id, AssetModel.code)).tuples().all())
    for part in ctx.session.scalars(sa.select(Part).order_by(Part.sku)):
        writer.writerow(
            [
                part.sku,
                part.name,
                part.unit_of_measure,
                f"{part.unit_cost:.2f}",
                f"{part.unit_price:.2f}",
                "true" if part.serial_tracked else "false",
                "true" if part.active else "false",
                join_list([codes[c.asset_model_id] for c in part.compatible]),
                part.description,
            ]
        )
    return out.getvalue()
