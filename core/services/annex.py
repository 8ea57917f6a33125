"""Facts other features attach to work orders and assets (an alarm's telemetry evidence, open alarms,
what a job cost), read by whoever shows a job or a customer (the engineer's day, the console, the 360°
view) without core knowing those features.

A feature registers a reader under its name when it is wired; registering again replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Fact:
    source: str  # the feature: "iot", …
    kind: str  # e.g. "threshold", "trend", "fault_code", "offline"
    summary: str
    raised_at: datetime | None = None
    severity: str | None = None
    # A code others can look things up by (a fault code, an alarm type), e.g. knowledge articles.
    code: str | None = None
    # Where the full record is read in the API, e.g. "/alarms/4".
    link: str | None = None
    # Chart-ready and feature-specific: {"metric", "values", "series": [[ts, value], …], …}
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Charge:
    """What a job cost and who paid for it (a settlement): for whoever totals a customer's spend."""

    source: str
    currency: str
    total: Decimal  # labour + parts
    covered: Decimal  # by the warranty or the contract
    customer: Decimal  # what the customer pays
    at: datetime


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Advice:
    """Something that may help with a job (a knowledge article), for whoever shows the job."""

    source: str
    ref: int  # its id where it comes from
    title: str
    excerpt: str
    link: str  # where the whole of it is read in the API, e.g. "/knowledge/7"
    score: float


Reader = Callable[[Session, Sequence[int]], Mapping[int, list[Fact]]]
ChargeReader = Callable[[Session, Sequence[int]], Mapping[int, list[Charge]]]
AdviceReader = Callable[[Session, Sequence[int]], Mapping[int, list[Advice]]]

_work_order_readers: dict[str, Reader] = {}
_asset_readers: dict[str, Reader] = {}
_charge_readers: dict[str, ChargeReader] = {}
_advice_readers: dict[str, AdviceReader] = {}


def register(
    name: str,
    *,
    work_orders: Reader | None = None,
    assets: Reader | None = None,
    charges: ChargeReader | None = None,
    advice: AdviceReader | None = None,
) -> None:
    if work_orders is not None:
        _work_order_readers[name] = work_orders
    if assets is not None:
        _asset_readers[name] = assets
    if charges is not None:
        _charge_readers[name] = charges
    if advice is not None:
        _advice_readers[name] = advice


def _gather(
    readers: Mapping[str, Callable[[Session, Sequence[int]], Mapping[int, list[T]]]],
    session: Session,
    ids: Sequence[int],
) -> dict[int, list[T]]:
    out: dict[int, list[T]] = {i: [] for i in ids}
    if not ids:
        return out
    for reader in readers.values():
        for key, facts in reader(session, ids).items():
            out.setdefault(key, []).extend(facts)
    return out


def work_order_facts(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[Fact]]:
    """Evidence per work order: why it exists (the telemetry that raised it, a fault code…)."""
    return _gather(_work_order_readers, session, work_order_ids)


def asset_facts(session: Session, asset_ids: Sequence[int]) -> dict[int, list[Fact]]:
    """What is wrong with each asset right now (open alarms)."""
    return _gather(_asset_readers, session, asset_ids)


def work_order_charges(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[Charge]]:
    """What each work order cost (one charge per settled visit)."""
    return _gather(_charge_readers, session, work_order_ids)


def work_order_advice(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[Advice]]:
    """What may help with each work order (suggested knowledge articles), best first per source."""
    return _gather(_advice_readers, session, work_order_ids)
