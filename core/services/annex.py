"""Facts other features attach to work orders and assets (an alarm's telemetry evidence, open alarms),
read by whoever shows a job (the engineer's day, the console) without core knowing those features.

A feature registers a reader under its name when it is wired; registering again replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    # Chart-ready and feature-specific: {"metric", "values", "series": [[ts, value], …], …}
    details: Mapping[str, Any] = field(default_factory=dict)


Reader = Callable[[Session, Sequence[int]], Mapping[int, list[Fact]]]

_work_order_readers: dict[str, Reader] = {}
_asset_readers: dict[str, Reader] = {}


def register(name: str, *, work_orders: Reader | None = None, assets: Reader | None = None) -> None:
    if work_orders is not None:
        _work_order_readers[name] = work_orders
    if assets is not None:
        _asset_readers[name] = assets


def _gather(readers: dict[str, Reader], session: Session, ids: Sequence[int]) -> dict[int, list[Fact]]:
    out: dict[int, list[Fact]] = {i: [] for i in ids}
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
