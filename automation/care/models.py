"""The care tables: consumables and their readings, replacements, predictions and notices; churn scores;
volume forecasts; the care pass's lease.

The "once" promises are unique keys here: one open notice per (asset, consumable) (a partial unique
index, as for alarms), one replacement per source event, one reading per (asset, counter, instant);
predictions, churn scores and forecasts are rows keyed by their subject and overwritten by each pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _ref(target: str, *, nullable: bool = False, index: bool = True) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


class Consumable(Base):
    """Something on an asset model that runs out: by a usage counter (`counter` + `capacity`) or by time
    (`cycle_days`). Exactly one of the two is set (`automation.care.consumables` checks it)."""

    __tablename__ = "care_consumables"
    __table_args__ = (sa.UniqueConstraint("asset_model_id", "code"),)
    id: Mapped[int] = _pk()
    asset_model_id: Mapped[int] = _ref("asset_models.id", index=False)
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    # The part that replaces it: consuming this SKU on a work order for the asset counts as a replacement.
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    # A telemetry metric or meter name that counts use since installation (run hours, labels printed…).
    counter: Mapped[str | None] = mapped_column(sa.String(64))
    # How much of the counter one consumable lasts.
    capacity: Mapped[float | None] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(32), default="")
    cycle_days: Mapped[int | None] = mapped_column(sa.Integer)
    # Raise the notice this many days before the predicted run-out.
    lead_days: Mapped[int] = mapped_column(sa.Integer)
    # "task" (the account owner's), "portal" (the customer sees it) or "both".
    notify: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UsageReading(Base):
    """A counter reading that arrived as data (a meter read on a visit, a customer's export, an import)."""

    __tablename__ = "care_readings"
    __table_args__ = (sa.UniqueConstraint("asset_id", "counter", "at"),)
    id: Mapped[int] = _pk()
    asset_id: Mapped[int] = _ref("assets.id", index=False)
    counter: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime]
    value: Mapped[float] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.String(32))
    recorded_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]


class Replacement(Base):
    """A consumable replaced on an asset: by hand, or seen in a stock consumption of its SKU (`source_key`
    holds that event, so reading the outbox twice records it once)."""

    __tablename__ = "care_replacements"
    __table_args__ = (sa.Index("ix_care_replacements_asset", "asset_id", "consumable_id", "at"),)
    id: Mapped[int] = _pk()
    asset_id: Mapped[int] = _ref("assets.id", index=False)
    consumable_id: Mapped[int] = _ref("care_consumables.id", index=False)
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(sa.String(32))
    source_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", nullable=True, index=False)
    recorded_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]


class Prediction(Base):
    """The latest run-out prediction per (asset, consumable), rewritten by every care pass."""

    __tablename__ = "care_predictions"
    asset_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("assets.id"), primary_key=True)
    consumable_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("care_consumables.id"), primary_key=True)
    # None: not enough data to predict (see `basis.why`).
    run_out_at: Mapped[datetime | None]
    # How it was worked out: method, rate per day, used, capacity, readings, since…
    basis: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]


class CareNotice(Base):
    """A consumable about to run out on an asset. At most one open per (asset, consumable)."""

    __tablename__ = "care_notices"
    __table_args__ = (
        sa.Index(
            "uq_care_notices_open",
            "asset_id",
            "consumable_id",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index("ix_care_notices_customer", "customer_id", "status"),
    )
    id: Mapped[int] = _pk()
    asset_id: Mapped[int] = _ref("assets.id", index=False)
    consumable_id: Mapped[int] = _ref("care_consumables.id", index=False)
    customer_id: Mapped[int] = _ref("customers.id", index=False)
    # open → resolved
    status: Mapped[str] = mapped_column(sa.String(16))
    run_out_at: Mapped[datetime]
    basis: Mapped[dict[str, Any]]
    # Whether the customer sees it in the portal.
    portal: Mapped[bool] = mapped_column(sa.Boolean)
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # How many passes found it still due (the first one included), like an alarm's count.
    count: Mapped[int] = mapped_column(sa.Integer, default=1)
    task_id: Mapped[int | None] = _ref("automation_tasks.id", nullable=True, index=False)
    resolved_at: Mapped[datetime | None]
    resolved_reason: Mapped[str | None] = mapped_column(sa.Text)


class ChurnScore(Base):
    """A customer's churn-risk score with the reasons, rewritten by every care pass."""

    __tablename__ = "care_churn_scores"
    customer_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("customers.id"), primary_key=True)
    score: Mapped[int] = mapped_column(sa.Integer)
    # low | medium | high
    level: Mapped[str] = mapped_column(sa.String(8))
    reasons: Mapped[list[Any]]
    signals: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]


class VolumeForecast(Base):
    """A territory's weekly work-order forecast with its backtest, rewritten by every care pass."""

    __tablename__ = "care_forecasts"
    territory_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("territories.id"), primary_key=True)
    method: Mapped[str] = mapped_column(sa.String(200))
    # [{"week_start", "iso_week", "expected", "low", "high", "expected_hours", "last_year", "so_far" (first)}]
    weeks: Mapped[list[Any]]
    # The recent actuals the forecast continues: [{"week_start", "count"}]
    history: Mapped[list[Any]]
    # {"origins", "horizon", "model": {"mae", "mape", "mase"}, "seasonal_naive": {…}} or {"why": …}
    backtest: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]


class CareRun(Base):
    """The care pass's lease: one worker at a time does it per interval (results are idempotent anyway)."""

    __tablename__ = "care_runs"
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(120))
    lease_until: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_result: Mapped[dict[str, Any]]
