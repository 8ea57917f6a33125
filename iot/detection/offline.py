"""The offline alarm: raised once a device has been silent longer than the grace period, cleared when
it is heard from again."""

from __future__ import annotations

from datetime import datetime

from iot.detection.config import Profile
from iot.detection.signals import Evidence, Signal, SignalKind
from iot.detection.text import duration


class OfflineWatch:
    __slots__ = ("active", "alarm_type", "grace", "severity")

    def __init__(self, profile: Profile) -> None:
        self.grace = profile.offline_grace
        self.severity = profile.offline_severity
        self.alarm_type = profile.offline_alarm_type
        self.active = False

    def check(self, now: datetime, last_seen: datetime) -> Signal | None:
        silent = now - last_seen
        if not self.active and silent > self.grace:
            self.active = True
            message = (
                f"device silent for {duration(silent.total_seconds())} "
                f"(grace {duration(self.grace.total_seconds())})"
            )
            return self._signal("raise", now, last_seen, message)
        if self.active and silent <= self.grace:
            self.active = False
            return self._signal("clear", now, last_seen, "device reporting again")
        return None

    def _signal(self, kind: SignalKind, now: datetime, last_seen: datetime, message: str) -> Signal:
        return Signal(
            kind=kind,
            alarm_type=self.alarm_type,
            rule="offline",
            severity=self.severity,
            ts=now,
            message=message,
            evidence=Evidence(last_seen=last_seen),
        )
