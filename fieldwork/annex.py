"""What field work tells whoever shows a customer: what each job cost (its settlements)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.services import annex
from fieldwork.models import Settlement


def work_order_charges(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[annex.Charge]]:
    out: dict[int, list[annex.Charge]] = {}
    rows = session.scalars(
        sa.select(Settlement)
        .where(Settlement.work_order_id.in_(work_order_ids))
        .order_by(Settlement.computed_at, Settlement.id)
    )
    for s in rows:
        out.setdefault(s.work_order_id, []).append(
            annex.Charge(
                source="fieldwork",
                currency=s.currency,
                total=s.labour_amount + s.parts_amount,
                covered=s.covered_amount,
                customer=s.customer_amount,
                at=s.computed_at,
            )
        )
    return out


def register() -> None:
    annex.register("fieldwork", charges=work_order_charges)
