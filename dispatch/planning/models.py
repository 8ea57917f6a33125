"""The planning feature's tables: proposals (a plan waiting for a dispatcher) and pins.

Pins live here rather than on `visits.pinned` because a dispatcher pins *work orders*, often before
any visit exists ("this job goes to Wang, at 14:00"); `visits.pinned` is honoured too when loading.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType, UTCDateTime


class PlanProposal(Base):
    """One optimisation's result for a territory and day, until committed or discarded.

    `basis` fingerprints the world the plan was made from (open work orders, visits, pins and
    engineers with their versions); committing refuses a proposal whose basis no longer holds.
    """

    __tablename__ = "plan_proposals"
    __table_args__ = (sa.Index("ix_plan_proposals_territory_day", "territory_id", "day", "status"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    territory_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("territories.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16))  # proposed | committed | discarded
    kind: Mapped[str] = mapped_column(sa.String(16))  # full | incremental
    basis: Mapped[str] = mapped_column(sa.String(64))
    time_limit_s: Mapped[float] = mapped_column(sa.Float)
    objective: Mapped[float] = mapped_column(sa.Float)
    solver_status: Mapped[str] = mapped_column(sa.String(64))
    solve_seconds: Mapped[float] = mapped_column(sa.Float)
    plan: Mapped[dict[str, Any]]
    diff: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanPin(Base):
    """A work order held to an engineer and/or a start time through every later optimisation."""

    __tablename__ = "plan_pins"
    work_order_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("work_orders.id"), primary_key=True)
    engineer_id: Mapped[int | None] = mapped_column(IdType, sa.ForeignKey("engineers.id"), nullable=True)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
