"""What IoT tells whoever shows a job: the alarm evidence behind a work order, and an asset's open alarms."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.services import annex
from iot.alarms import OPEN_STATES
from iot.models import Alarm


def _fact(alarm: Alarm) -> annex.Fact:
    return annex.Fact(
        source="iot",
        kind=alarm.source,
        summary=alarm.message,
        raised_at=alarm.first_seen_at,
        severity=alarm.severity,
        code=alarm.alarm_type,
        link=f"/alarms/{alarm.id}",
        details={
            "alarm_id": alarm.id,
            "alarm_type": alarm.alarm_type,
            "count": alarm.count,
            **alarm.evidence,
        },
    )


def work_order_evidence(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[annex.Fact]]:
    out: dict[int, list[annex.Fact]] = {}
    alarms = session.scalars(
        sa.select(Alarm).where(Alarm.work_order_id.in_(work_order_ids)).order_by(Alarm.first_seen_at)
    )
    for alarm in alarms:
        assert alarm.work_order_id is not None
        out.setdefault(alarm.work_order_id, []).append(_fact(alarm))
    return out


def open_alarms(session: Session, asset_ids: Sequence[int]) -> dict[int, list[annex.Fact]]:
    out: dict[int, list[annex.Fact]] = {}
    alarms = session.scalars(
        sa.select(Alarm)
        .where(Alarm.asset_id.in_(asset_ids), Alarm.state.in_(OPEN_STATES))
        .order_by(Alarm.first_seen_at)
    )
    for alarm in alarms:
        out.setdefault(alarm.asset_id, []).append(_fact(alarm))
    return out


def register() -> None:
    annex.register("iot", work_orders=work_order_evidence, assets=open_alarms)
