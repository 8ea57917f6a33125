"""Device fault codes → alarms, by the profile's table. Stateless: every event is a raise, and the alarm
service's de-duplication turns repeats into a bumped count on the one open alarm."""

from __future__ import annotations

from datetime import datetime

from iot.detection.config import Profile, Severity
from iot.detection.signals import Evidence, Signal


def fault_signal(
    profile: Profile, ts: datetime, code: str, detail: str = "", reported_severity: Severity | None = None
) -> Signal | None:
    """The raise for fault `code`, or None for a code the profile neither maps nor accepts when unmapped.

    A mapped code takes the profile's severity (the device's own opinion is only a hint); an unmapped
    code takes the device's severity if it sent one, else `profile.unmapped_fault_severity`.
    """
    mapped = profile.fault_codes.get(code)
    if mapped is not None:
        alarm_type = mapped.alarm_type or f"fault:{code}"
        severity = mapped.severity
        what = mapped.message or f"fault {code}"
    elif profile.unmapped_fault_severity is not None:
        alarm_type = f"fault:{code}"
        severity = reported_severity or profile.unmapped_fault_severity
        what = f"unmapped fault {code}"
    else:
        return None
    message = f"device reported {what}: {detail}" if detail else f"device reported {what}"
    return Signal(
        kind="raise",
        alarm_type=alarm_type,
        rule="fault",
        severity=severity,
        ts=ts,
        message=message[:500],
        evidence=Evidence(fault_code=code, detail=detail or None),
    )
