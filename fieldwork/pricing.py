"""The bill for a job, as a pure function: labour and parts, less what the warranty or contract covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Rates:
    currency: str
    call_out_fee: Decimal
    hourly_rate: Decimal
    travel_hourly_rate: Decimal
    increment_minutes: int
    minimum_minutes: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """Who pays instead of the customer: a basis ("warranty", "contract HT-2026-001") or None."""

    labour: str | None
    parts: str | None


@dataclass(frozen=True, slots=True)
class PartCharge:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    covered_by: str | None


@dataclass(frozen=True, slots=True)
class Bill:
    currency: str
    lines: tuple[Line, ...]
    labour_amount: Decimal
    parts_amount: Decimal
    covered_amount: Decimal
    customer_amount: Decimal


def billable_minutes(minutes: int, increment: int, minimum: int) -> int:
    """Started increments count in full, and a job is at least the minimum."""
    if minutes <= 0:
        return 0
    rounded = -(-minutes // increment) * increment
    return max(rounded, minimum)


def bill(
    rates: Rates, work_minutes: int, travel_minutes: int, parts: Sequence[PartCharge], coverage: Coverage
) -> Bill:
    lines: list[Line] = []
    if rates.call_out_fee > 0:
        lines.append(
            Line(
                "call_out",
                "call-out / 上门费",
                Decimal(1),
                rates.call_out_fee,
                money(rates.call_out_fee),
                coverage.labour,
            )
        )
    travel = billable_minutes(travel_minutes, rates.increment_minutes, 0)
    if travel and rates.travel_hourly_rate > 0:
        hours = Decimal(travel) / 60
        lines.append(
            Line(
                "travel",
                f"travel {travel} min / 路程",
                hours,
                rates.travel_hourly_rate,
                money(hours * rates.travel_hourly_rate),
                coverage.labour,
            )
        )
    work = billable_minutes(work_minutes, rates.increment_minutes, rates.minimum_minutes)
    if work:
        hours = Decimal(work) / 60
        lines.append(
            Line(
                "labour",
                f"labour {work} min / 工时",
                hours,
                rates.hourly_rate,
                money(hours * rates.hourly_rate),
                coverage.labour,
            )
        )
    for part in parts:
        lines.append(
            Line(
                "part",
                f"{part.sku} {part.name}",
                Decimal(part.quantity),
                part.unit_price,
                money(part.unit_price * part.quantity),
                coverage.parts,
            )
        )
    labour = sum((line.amount for line in lines if line.kind != "part"), Decimal(0))
    parts_total = sum((line.amount for line in lines if line.kind == "part"), Decimal(0))
    covered = sum((line.amount for line in lines if line.covered_by), Decimal(0))
    return Bill(
        rates.currency,
        tuple(lines),
        money(labour),
        money(parts_total),
        money(covered),
        money(labour + parts_total - covered),
    )
