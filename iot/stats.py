"""Ingestion counters as any API replica sees them: summed from the rows workers commit with each batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from iot.models import Alarm, DeadLetter, Device, IotLease, IotWorker

COUNTERS = ("received", "stored", "duplicate", "dead_lettered", "events", "status_updates", "batches")


def ingest_stats(
    session: Session, now: datetime, *, live_within: timedelta = timedelta(seconds=60)
) -> dict[str, Any]:
    workers = list(session.scalars(sa.select(IotWorker).order_by(IotWorker.id)))
    totals = {name: sum(getattr(w, name) for w in workers) for name in COUNTERS}
    reasons = dict(
        session.execute(
            sa.select(DeadLetter.reason, sa.func.count())
            .group_by(DeadLetter.reason)
            .order_by(DeadLetter.reason)
        )
        .tuples()
        .all()
    )
    devices = dict(
        session.execute(
            sa.select(Device.status, sa.func.count()).where(Device.active.is_(True)).group_by(Device.status)
        )
        .tuples()
        .all()
    )
    open_alarms = session.scalar(
        sa.select(sa.func.count()).select_from(Alarm).where(Alarm.state != "cleared")
    )
    leases = session.execute(
        sa.select(IotLease.bucket, IotLease.holder, IotLease.expires_at).order_by(IotLease.bucket)
    ).all()
    return {
        "totals": totals,
        "workers": [
            {
                "id": w.id,
                "host": w.host,
                "pid": w.pid,
                "started_at": w.started_at,
                "updated_at": w.updated_at,
                "live": w.updated_at >= now - live_within
                or (w.monitor_seen_at is not None and w.monitor_seen_at >= now - live_within),
                "detecting": w.monitor_seen_at is not None and w.monitor_seen_at >= now - live_within,
                **{name: getattr(w, name) for name in COUNTERS},
            }
            for w in workers
        ],
        "dead_letters_by_reason": reasons,
        "devices_by_status": devices,
        "open_alarms": int(open_alarms or 0),
        "detection_buckets": [
            {"bucket": b, "holder": h if e is not None and e >= now else None} for b, h, e in leases
        ],
    }
