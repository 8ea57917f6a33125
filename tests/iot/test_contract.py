"""The wire contract: what a device may send, and the reason code for everything it may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iot import contract
from iot.contract import EventMessage, Rejected, StatusMessage, TelemetryMessage, judge

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)
T = contract.telemetry_topic("dev-1")


def test_json_and_msgpack_bodies_decode_the_same() -> None:
    doc = {"ts": MS, "seq": 7, "metrics": {"temperature": 21.5, "vibration": 2}}
    a = judge(T, contract.encode_json(doc), NOW)
    b = judge(T, contract.encode_msgpack(doc), NOW)
    c = judge(T, contract.encode_msgpack(doc), NOW, content_type="application/msgpack")
    assert a == b == c == TelemetryMessage("dev-1", NOW, 7, {"temperature": 21.5, "vibration": 2.0})
    rfc = judge(T, b'{"ts": "2026-11-23T09:30:00+08:00", "metrics": {"t": 1}}', NOW)
    assert isinstance(rfc, TelemetryMessage) and rfc.ts == NOW and rfc.seq is None


def test_events_and_status() -> None:
    ev = judge(contract.events_topic("dev-1"), b'{"ts": %d, "code": "E42", "severity": "critical"}' % MS, NOW)
    assert isinstance(ev, EventMessage) and ev.code == "E42" and ev.severity == "critical"
    assert judge(contract.status_topic("dev-1"), b"offline", NOW) == StatusMessage(
        "dev-1", contract.Status.OFFLINE
    )


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("fieldops/v1/devices/dev-1/firmware", b"{}", "bad_topic"),
        ("fieldops/v1/devices/+/telemetry", b"{}", "bad_topic"),
        ("other/v1/devices/dev-1/telemetry", b"{}", "bad_topic"),
        (T, b"", "empty"),
        (T, b"x" * 20_000, "too_large"),
        (T, b"hello", "bad_encoding"),
        (T, b"[1]", "bad_encoding"),
        (T, b'{"ts": 1, "metrics": {"t": NaN}}', "malformed"),
        (T, b'{"ts": %d, "metrics": {"t": 1e999}}' % MS, "invalid"),
        (T, b'{"ts": %d, "metrics": {"t": Infinity}}' % MS, "malformed"),
        (T, b'{"ts": %d, "metrics": {"t": "1"}}' % MS, "invalid"),
        (T, b'{"ts": %d, "metrics": {"t": true}}' % MS, "invalid"),
        (T, b'{"ts": %d, "metrics": {}}' % MS, "invalid"),
        (T, b'{"ts": %d, "seq": -1, "metrics": {"t": 1}}' % MS, "invalid"),
        (T, b'{"ts": "2026-11-23T01:30:00", "metrics": {"t": 1}}', "invalid"),
        (T, b'{"ts": %d, "metrics": {"t": 1}, "x": 1}' % MS, "invalid"),
        (T, b'{"ts": %d, "metrics": {"\xc3\x28": 1}}' % MS, "not_utf8"),
        (T, b'{"ts": %d, "metrics": {"t": 1}} \xff' % MS, "not_utf8"),
        (T, b'{"ts": %d, "metrics": {"t": 1}}' % (MS + 3_600_000), "ts_in_future"),
        (T, b'{"ts": %d, "metrics": {"t": 1}}' % (MS - 8 * 86_400_000), "ts_too_old"),
        (T, b'{"ts": %d, "metrics": {"t": 1}, "device": "dev-2"}' % MS, "device_mismatch"),
        (T, b"\x81\xa2ts\xc0", "invalid"),
        (T, b"\x81\xa2ts", "malformed"),
        (T, msgspec.msgpack.encode({"ts": MS, "metrics": {"t": float("nan")}}), "invalid"),
        (contract.status_topic("dev-1"), b"asleep", "bad_status"),
        (contract.status_topic("dev-1"), b"\xff", "bad_status"),
        (contract.events_topic("dev-1"), b'{"ts": %d, "code": "E 1"}' % MS, "invalid"),
    ],
)
def test_what_is_refused_and_why(topic: str, body: bytes, reason: str) -> None:
    result = judge(topic, body, NOW)
    assert isinstance(result, Rejected), result
    assert result.reason == reason, result.detail


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_judge_never_raises(body: bytes) -> None:
    for topic in (T, contract.events_topic("d"), contract.status_topic("d")):
        judge(topic, body, NOW)
        judge(topic, b"{" + body, NOW)
        judge(topic, b"\x82" + body, NOW)


def test_limits_are_settings() -> None:
    limits = contract.Limits(max_bytes=100, max_future=timedelta(0), max_age=timedelta(seconds=10))
    result = judge(T, b'{"ts": %d, "metrics": {"t": 1}}' % (MS - 20_000), NOW, limits=limits)
    assert isinstance(result, Rejected) and result.reason == "ts_too_old"


def test_shared_subscriptions_only_on_mqtt5() -> None:
    assert contract.subscriptions(shared=True)[0] == "$share/fieldops-ingest/fieldops/v1/devices/+/telemetry"
    assert contract.subscriptions(shared=False)[0] == "fieldops/v1/devices/+/telemetry"
