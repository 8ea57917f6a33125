"""The detection stage: stored telemetry and fault events in, alarms and work orders out.

It reads back what the ingest workers committed rather than hooking into them, because with a shared
subscription the messages of one device are spread over all workers, while a detector needs every
reading of its (asset, metric) in order. Assets are hashed into buckets; each bucket is leased to one
worker at a time (`iot_leases`), balanced over the live workers. The lease holds the bucket's read
positions, which only move forward in the same commit as the detector snapshots of its assets, so a
worker that dies is replaced by one that restores the snapshots and re-reads from the matching position:
no reading is lost to the detectors and none is counted twice (a replayed raise finds its alarm open and
only bumps it).

Readings older than the newest one a detector has seen (out-of-order deliveries across workers) are
stored but not fed to it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.services.context import Actor, ServiceContext
from core.store.models import Asset
from iot import alarms, store
from iot.contract import Severity
from iot.detection_adapter import DetectionFactory, Detector, DetectorFactory
from iot.models import (
    Alarm,
    DetectorState,
    Device,
    DeviceEvent,
    IotLease,
    IotProfile,
    IotWorker,
    TelemetryRow,
)

log = structlog.get_logger(__name__)

_telemetry = cast(sa.Table, TelemetryRow.__table__)
_events = cast(sa.Table, DeviceEvent.__table__)


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    worker_id: str
    buckets: int = 8
    lease_s: float = 15.0
    poll_s: float = 0.25
    persist_s: float = 5.0
    offline_check_s: float = 5.0
    read_limit: int = 20_000
    profile_cache_s: float = 30.0


@dataclass(slots=True)
class _Tracked:
    detector: Detector
    last_ts: datetime
    dirty: bool = False


@dataclass(slots=True)
class _AssetInfo:
    model_id: int
    config: dict[str, Any]
    loaded_at: float


@dataclass(slots=True)
class _Cursor:
    telemetry: int
    events: int
    dirty: bool = False


@dataclass(slots=True)
class CycleResult:
    readings: int = 0
    events: int = 0
    signals: list[alarms.Signal] = field(default_factory=list)


class Monitor:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        config: MonitorConfig,
        *,
        factory: DetectorFactory | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.factory = factory or DetectionFactory()
        self.owned: dict[int, _Cursor] = {}
        self.tracked: dict[tuple[int, str], _Tracked] = {}
        self.assets: dict[int, _AssetInfo] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_claim = 0.0
        self._last_persist = time.monotonic()
        self._last_offline = 0.0
        self.raised = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="iot-monitor", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            self.release_all()
        except Exception:
            log.exception("monitor_release_failed")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("monitor_cycle_failed")
                time.sleep(1.0)
            self._wake.wait(self.config.poll_s)
            self._wake.clear()

    def step(self) -> CycleResult:
        """One cycle: renew leases when due, read, detect, raise, persist when due, check silence."""
        now_m = time.monotonic()
        if now_m - self._last_claim >= self.config.lease_s / 3:
            self.claim()
            self._last_claim = now_m
        result = self.cycle()
        if now_m - self._last_offline >= self.config.offline_check_s and self.owned:
            self.check_offline()
            self._last_offline = now_m
        return result

    # ------------------------------------------------------------ leases

    def claim(self) -> set[int]:
        cfg, now = self.config, self.clock.now()
        with self.sessions() as session:
            _ensure_rows(session, cfg.buckets)
            _heartbeat(session, cfg.worker_id, now)
            live = sorted(
                session.scalars(
                    sa.select(IotWorker.id).where(
                        IotWorker.monitor_seen_at >= now - timedelta(seconds=cfg.lease_s * 2)
                    )
                )
            )
            if cfg.worker_id not in live:
                live = sorted([*live, cfg.worker_id])
            wanted = {b for b in range(cfg.buckets) if live[b % len(live)] == cfg.worker_id}
            expires = now + timedelta(seconds=cfg.lease_s)
            got: set[int] = set()
            for bucket in sorted(wanted):
                result = session.execute(
                    sa.update(IotLease)
                    .where(
                        IotLease.bucket == bucket,
                        sa.or_(
                            IotLease.holder == cfg.worker_id,
                            IotLease.holder.is_(None),
                            IotLease.expires_at < now,
                        ),
                    )
                    .values(holder=cfg.worker_id, expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    got.add(bucket)
            session.commit()
            for bucket in got - set(self.owned):
                lease = session.get_one(IotLease, bucket)
                self.owned[bucket] = _Cursor(lease.telemetry_cursor, lease.events_cursor)
                log.info(
                    "monitor_bucket_taken", worker=cfg.worker_id, bucket=bucket, cursor=lease.telemetry_cursor
                )
        for bucket in set(self.owned) - got:
            self._release(bucket, handover=bucket not in wanted)
        return got

    def _release(self, bucket: int, *, handover: bool) -> None:
        """Forget a bucket's assets; on a handover (we still hold the lease) save its state and free it first.

        A lease someone else took over is not written to: its new holder owns the state now.
        """
        if handover:
            # Rebalancing: we still hold the lease, so save and hand over cleanly.
            with self.sessions() as session:
                self._persist(session, buckets={bucket})
                session.execute(
                    sa.update(IotLease)
                    .where(IotLease.bucket == bucket, IotLease.holder == self.config.worker_id)
                    .values(holder=None, expires_at=None)
                    .execution_options(synchronize_session=False)
                )
                session.commit()
        self.owned.pop(bucket, None)
        b = self.config.buckets
        for key in [k for k in self.tracked if k[0] % b == bucket]:
            del self.tracked[key]
        for asset_id in [a for a in self.assets if a % b == bucket]:
            del self.assets[asset_id]

    def release_all(self) -> None:
        """Hand every bucket back and leave the live set, so the other workers take over at once."""
        for bucket in list(self.owned):
            self._release(bucket, handover=True)
        with self.sessions() as session:
            session.execute(
                sa.update(IotWorker)
                .where(IotWorker.id == self.config.worker_id)
                .values(monitor_seen_at=None)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    # ------------------------------------------------------------ detection

    def cycle(self) -> CycleResult:
        result = CycleResult()
        if not self.owned:
            return result
        cfg = self.config
        buckets = sorted(self.owned)
        with self.sessions() as session:
            hi_t, hi_e = store.horizons(session)
            lo_t = min(self.owned[b].telemetry for b in buckets)
            lo_e = min(self.owned[b].events for b in buckets)
            rows, new_t = _read(session, store.read_telemetry, lo_t, hi_t, buckets, cfg)
            events, new_e = _read(session, store.read_events, lo_e, hi_e, buckets, cfg)
            rows = [r for r in rows if r.pos >= self.owned[r.asset_id % cfg.buckets].telemetry]
            events = [e for e in events if e.pos >= self.owned[e.asset_id % cfg.buckets].events]
            self._load(session, {r.asset_id for r in rows} | {e.asset_id for e in events})
            for row in rows:
                result.signals.extend(self._feed(row))
            result.readings = len(rows)
            for ev in events:
                signal = self._fault_signal(ev)
                if signal is not None:
                    result.signals.append(signal)
            result.events = len(events)
            for b in buckets:
                cursor = self.owned[b]
                if new_t > cursor.telemetry or new_e > cursor.events:
                    cursor.telemetry = max(cursor.telemetry, new_t)
                    cursor.events = max(cursor.events, new_e)
                    cursor.dirty = True
            ctx = ServiceContext(session, self.clock, Actor.system("telemetry"))
            for signal in result.signals:
                self._act(ctx, signal)
            due = time.monotonic() - self._last_persist >= cfg.persist_s
            if result.signals or due:
                self._persist(session)
                session.commit()
        return result

    def _feed(self, row: Any) -> list[alarms.Signal]:
        out: list[alarms.Signal] = []
        info = self.assets.get(row.asset_id)
        if info is None:
            return out
        for metric, value in row.metrics.items():
            key = (row.asset_id, metric)
            tracked = self.tracked.get(key)
            if tracked is None:
                detector = self.factory.create(info.config, metric)
                if detector is None:
                    continue
                tracked = self.tracked[key] = _Tracked(detector, row.ts)
            elif row.ts <= tracked.last_ts:
                continue
            tracked.last_ts = row.ts
            tracked.dirty = True
            for finding in tracked.detector.update(row.ts, float(value)):
                out.append(
                    alarms.Signal(
                        asset_id=row.asset_id,
                        alarm_type=finding.alarm_type,
                        source="detector",
                        severity=finding.severity,
                        message=finding.message,
                        at=row.ts,
                        device_id=row.device_id,
                        evidence={"metric": metric, "value": float(value), **finding.evidence},
                        clear=finding.clear,
                    )
                )
        return out

    def _act(self, ctx: ServiceContext, signal: alarms.Signal) -> None:
        if signal.clear:
            alarms.clear_signal(ctx, signal)
            return
        if (
            signal.source == "detector"
            and not signal.evidence.get("values")
            and "series" not in signal.evidence
        ):
            metric = signal.evidence.get("metric")
            if isinstance(metric, str):
                since = signal.at - timedelta(hours=24)
                signal.evidence["series"] = store.series(ctx.session, signal.asset_id, metric, since)
        outcome = alarms.raise_alarm(ctx, signal)
        if outcome.created:
            self.raised += 1
            log.info(
                "alarm_raised",
                alarm_id=outcome.alarm.id,
                asset_id=signal.asset_id,
                type=signal.alarm_type,
                work_order_id=outcome.work_order_id,
            )

    def _load(self, session: Session, asset_ids: set[int]) -> None:
        """Asset → model configuration (cached), and the saved detector state of assets new to us."""
        now_m = time.monotonic()
        stale = {
            a
            for a in asset_ids
            if a not in self.assets or now_m - self.assets[a].loaded_at > self.config.profile_cache_s
        }
        if not stale:
            return
        new = {a for a in stale if a not in self.assets}
        rows = session.execute(
            sa.select(Asset.id, Asset.asset_model_id, IotProfile.detection)
            .outerjoin(IotProfile, IotProfile.asset_model_id == Asset.asset_model_id)
            .where(Asset.id.in_(sorted(stale)))
        )
        for asset_id, model_id, detection in rows:
            previous = self.assets.get(asset_id)
            config = detection or {}
            if previous is not None and previous.config != config:
                # The profile changed: start the asset's detectors afresh under the new configuration.
                for key in [k for k in self.tracked if k[0] == asset_id]:
                    del self.tracked[key]
            self.assets[asset_id] = _AssetInfo(model_id, config, now_m)
        if new:
            for state in session.scalars(
                sa.select(DetectorState).where(DetectorState.asset_id.in_(sorted(new)))
            ):
                info = self.assets.get(state.asset_id)
                if info is None:
                    continue
                try:
                    detector = self.factory.restore(info.config, state.metric, state.snapshot)
                except Exception:
                    log.warning("detector_restore_failed", asset_id=state.asset_id, metric=state.metric)
                    detector = None
                if detector is not None:
                    self.tracked[(state.asset_id, state.metric)] = _Tracked(detector, state.last_ts)

    def _persist(self, session: Session, buckets: set[int] | None = None) -> None:
        """Snapshots of changed detectors and the read positions, in the caller's transaction."""
        cfg, now = self.config, self.clock.now()
        chosen = set(self.owned) if buckets is None else buckets
        rows = []
        for (asset_id, metric), tracked in self.tracked.items():
            if not tracked.dirty or asset_id % cfg.buckets not in chosen:
                continue
            rows.append(
                {
                    "asset_id": asset_id,
                    "metric": metric,
                    "snapshot": tracked.detector.snapshot(),
                    "last_ts": tracked.last_ts,
                    "updated_at": now,
                }
            )
            tracked.dirty = False
        if rows:
            store.save_snapshots(session, rows)
        for bucket in chosen:
            cursor = self.owned.get(bucket)
            if cursor is None or not cursor.dirty:
                continue
            session.execute(
                sa.update(IotLease)
                .where(IotLease.bucket == bucket, IotLease.holder == cfg.worker_id)
                .values(telemetry_cursor=cursor.telemetry, events_cursor=cursor.events)
                .execution_options(synchronize_session=False)
            )
            cursor.dirty = False
        if buckets is None:
            self._last_persist = time.monotonic()

    # ------------------------------------------------------------ silence

    def check_offline(self) -> None:
        """Devices silent past their heartbeat timeout or gone by their Will: alarm after the grace period."""
        cfg, now = self.config, self.clock.now()
        with self.sessions() as session:
            rows = session.execute(
                sa.select(
                    Device.id,
                    Device.asset_id,
                    Device.status,
                    Device.status_at,
                    Device.last_seen_at,
                    sa.func.coalesce(IotProfile.heartbeat_timeout_s, 300),
                    IotProfile.detection,
                )
                .join(Asset, Asset.id == Device.asset_id)
                .outerjoin(IotProfile, IotProfile.asset_model_id == Asset.asset_model_id)
                .where(Device.active.is_(True), (Device.asset_id % cfg.buckets).in_(sorted(self.owned)))
            ).all()
            open_offline = {
                (a.asset_id, a.device_id)
                for a in session.scalars(
                    sa.select(Alarm).where(Alarm.source == "offline", Alarm.state != alarms.CLEARED)
                )
            }
            ctx = ServiceContext(session, self.clock, Actor.system("telemetry"))
            for device_id, asset_id, status, status_at, last_seen, timeout_s, detection in rows:
                since = _offline_since(status, status_at, last_seen, now, timedelta(seconds=timeout_s))
                grace_s, severity, alarm_type = self._offline_rule(detection or {})
                grace = timedelta(seconds=grace_s)
                is_open = (asset_id, device_id) in open_offline
                if since is not None and since + grace <= now and not is_open:
                    signal = alarms.offline_signal(asset_id, device_id, since, now, grace)
                    self._act(ctx, replace(signal, severity=severity, alarm_type=alarm_type))
                elif since is None and is_open:
                    back = f"device {device_id} is back"
                    alarms.clear_signal(
                        ctx, alarms.Signal(asset_id, alarm_type, "offline", Severity.INFO, back, now)
                    )

    def _offline_rule(self, detection: dict[str, Any]) -> tuple[float, Severity, str]:
        """(grace s, severity, alarm type) from the model's detection profile; 15 min / major without one."""
        rule = getattr(self.factory, "offline", None)
        found = rule(detection) if rule is not None else None
        return found if found is not None else (900.0, Severity.MAJOR, "offline")

    def _fault_signal(self, ev: Any) -> alarms.Signal | None:
        """A fault event read through the asset model's profile (severity, alarm type), when it has one."""
        info = self.assets.get(ev.asset_id)
        reader = getattr(self.factory, "fault", None)
        if reader is None or info is None or not info.config:
            return _fault_signal(ev)
        reading = reader(info.config, ev.ts, ev.code, ev.detail, Severity(ev.severity))
        if reading is None:
            return None  # the profile ignores unmapped codes
        return alarms.Signal(
            asset_id=ev.asset_id,
            alarm_type=reading.alarm_type,
            source="fault",
            severity=reading.severity,
            message=f"{ev.device_id}: {reading.message}"[:500],
            at=ev.ts,
            device_id=ev.device_id,
            evidence={**reading.evidence, "reported_at": ev.ts.isoformat()},
        )


def _offline_since(
    status: str, status_at: datetime | None, last_seen: datetime | None, now: datetime, timeout: timedelta
) -> datetime | None:
    if status == "offline" and status_at is not None and (last_seen is None or last_seen <= status_at):
        return status_at
    if last_seen is not None and last_seen + timeout < now:
        return last_seen + timeout
    return None


def _fault_signal(ev: Any) -> alarms.Signal:
    return alarms.Signal(
        asset_id=ev.asset_id,
        alarm_type=f"fault:{ev.code}",
        source="fault",
        severity=Severity(ev.severity),
        message=f"device {ev.device_id} reported fault {ev.code}: {ev.detail}"[:500],
        at=ev.ts,
        device_id=ev.device_id,
        evidence={"code": ev.code, "detail": ev.detail, "reported_at": ev.ts.isoformat()},
    )


def _read(
    session: Session, reader: Any, lo: int, hi: int, buckets: Sequence[int], cfg: MonitorConfig
) -> tuple[list[Any], int]:
    """Rows at positions [lo, hi); when cut by the limit, stop at a whole transaction boundary."""
    rows: list[Any] = reader(session, lo, hi, buckets, cfg.buckets, cfg.read_limit)
    if len(rows) < cfg.read_limit:
        return rows, hi
    cut = rows[-1].pos
    if rows[0].pos == cut:  # one transaction bigger than the limit: take all of it
        return reader(session, cut, cut + 1, buckets, cfg.buckets, 10**9), cut + 1
    return [r for r in rows if r.pos < cut], cut


def _ensure_rows(session: Session, buckets: int) -> None:
    have = set(session.scalars(sa.select(IotLease.bucket)))
    missing = [b for b in range(buckets) if b not in have]
    if missing:
        from sqlalchemy.exc import IntegrityError

        try:
            session.add_all(IotLease(bucket=b, telemetry_cursor=0, events_cursor=0) for b in missing)
            session.commit()
        except IntegrityError:
            session.rollback()


def _heartbeat(session: Session, worker_id: str, now: datetime) -> None:
    result = session.execute(
        sa.update(IotWorker)
        .where(IotWorker.id == worker_id)
        .values(monitor_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        store.register_worker(session, worker_id, socket.gethostname(), os.getpid(), now)
        _heartbeat(session, worker_id, now)
