"""`fieldops inventory …`: the nightly replenishment proposal, and CSV import/export of parts and counts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fieldops.settings import Settings

if TYPE_CHECKING:
    from core.services.context import ServiceContext
    from fieldops.wiring import System
    from inventory.reorder import Proposal

T = TypeVar("T")


def _run(ctx: click.Context, work: Callable[[ServiceContext], T]) -> T:
    """Run a use case as the CLI actor; domain errors and rejected files become clean CLI errors."""
    from core.domain.errors import DomainError
    from core.services.context import Actor, ServiceContext
    from fieldops.wiring import build_system
    from inventory.csv_read import CsvRejected

    settings: Settings = ctx.obj
    system = build_system(settings)
    with system.runtime.sessions() as session:
        try:
            return work(ServiceContext(session, system.runtime.clock, Actor.system("cli")))
        except CsvRejected as exc:
            for e in exc.errors[:50]:
                click.echo(f"line {e.line}, {e.field}: {e.message}", err=True)
            raise click.ClickException(f"nothing was imported ({len(exc.errors)} errors)") from exc
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def render(proposal: Proposal) -> str:
    transfers = [
        (t.from_code, t.to_code, line.sku, line.quantity) for t in proposal.transfers for line in t.lines
    ]
    purchases = [(p.location_code, p.sku, p.quantity, p.because) for p in proposal.purchases]
    parts = [f"Proposed transfers ({len(proposal.transfers)}):"]
    parts.append(table(("from", "to", "sku", "quantity"), transfers) if transfers else "  none")
    parts.append(f"\nPurchase needs ({len(purchases)}):")
    parts.append(table(("warehouse", "sku", "quantity", "because"), purchases) if purchases else "  none")
    if proposal.unfilled:
        unfilled = [(u.location_code, u.sku, u.quantity) for u in proposal.unfilled]
        parts.append(f"\nVan needs no warehouse can fill tonight ({len(unfilled)}):")
        parts.append(table(("van", "sku", "quantity"), unfilled))
    return "\n".join(parts)


@click.group()
def inventory() -> None:
    """Spare parts and stock."""


@inventory.command()
@click.option("--territory-id", type=int, help="Only the locations of this territory.")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.option("--accept", is_flag=True, help="Ship the proposed transfers now (all or nothing).")
@click.pass_context
def replenish(ctx: click.Context, territory_id: int | None, as_json: bool, accept: bool) -> None:
    """Propose van transfers and warehouse purchases from the min/max rules (and optionally ship them)."""
    import msgspec

    from inventory import replenish as rules

    def work(c: ServiceContext) -> tuple[Proposal, list[int]]:
        proposal = rules.current_proposal(c, territory_id)
        shipped: list[int] = []
        if accept and proposal.transfers:
            body = {
                "transfers": [
                    {
                        "from_location_id": t.from_location_id,
                        "to_location_id": t.to_location_id,
                        "lines": [{"sku": x.sku, "quantity": x.quantity} for x in t.lines],
                    }
                    for t in proposal.transfers
                ],
                "reason": "nightly replenishment",
            }
            shipped = [t.id for t in rules.accept(c, msgspec.convert(body, rules.AcceptInput))]
        return proposal, shipped

    proposal, shipped = _run(ctx, work)
    if as_json:
        out: dict[str, Any] = msgspec.to_builtins(proposal)
        if accept:
            out["shipped_transfer_ids"] = shipped
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    click.echo(render(proposal))
    if accept:
        click.echo(f"\nshipped {len(shipped)} transfers: {', '.join(map(str, shipped)) or 'none'}")


@inventory.command("import-parts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_parts(ctx: click.Context, file: Path) -> None:
    """Create or update parts by SKU from a CSV file (all or nothing; errors by line and column)."""
    from inventory.csv_catalogue import import_catalogue

    result = _run(ctx, lambda c: import_catalogue(c, file.read_bytes()))
    counts = f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    click.echo(f"{result.rows} rows: {counts}")


@inventory.command("export-parts")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_context
def export_parts(ctx: click.Context, file: Path | None) -> None:
    """Write the catalogue as CSV (to FILE, or standard output)."""
    from inventory.csv_catalogue import export_catalogue

    _write(_run(ctx, export_catalogue), file)


@inventory.command("import-counts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", help="The reason for rows without their own (e.g. 'cycle count 2026-11').")
@click.pass_context
def import_counts(ctx: click.Context, file: Path, reason: str | None) -> None:
    """Set stock to a count sheet (CSV: location, sku, quantity, serials, reason); all or nothing."""
    from inventory.csv_counts import import_counts as apply

    result = _run(ctx, lambda c: apply(c, file.read_bytes(), reason))
    click.echo(f"{result.rows} rows: {result.adjusted} adjusted, {result.unchanged} unchanged")


@inventory.command("export-counts")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--location", "code", help="Only this location (its code).")
@click.pass_context
def export_counts(ctx: click.Context, file: Path | None, code: str | None) -> None:
    """Write a count sheet of what the books say is on hand (to FILE, or standard output)."""
    import sqlalchemy as sa

    from inventory.csv_counts import export_counts as sheet
    from inventory.models import StockLocation

    def work(c: ServiceContext) -> str:
        location_id = None
        if code is not None:
            location_id = c.session.scalar(sa.select(StockLocation.id).where(StockLocation.code == code))
            if location_id is None:
                raise click.ClickException(f"no stock location with code {code!r}")
        return sheet(c, location_id)

    _write(_run(ctx, work), file)


def _write(text: str, file: Path | None) -> None:
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {file}", err=True)


COMMANDS: list[click.Command] = [inventory]


def wire(system: System) -> None:
    from inventory.subscriptions import subscribe

    # Parts are reserved when a visit is assigned and released when it is withdrawn.
    subscribe(system.runtime.bus, system.runtime.sessions, system.runtime.clock)
