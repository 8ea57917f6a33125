"""The MQTT contract (v1) on the wire: topics, payload types, and the one function that judges a message.

Everything a device sends is decoded and checked here, before anything touches the database. A message
that fails is not an exception for the caller to handle but a `Rejected` value naming the reason, so the
ingest worker can dead-letter it and carry on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Final

import msgspec
from msgspec import Meta

PREFIX: Final = "fieldops/v1"
DEVICE_TOPICS: Final = f"{PREFIX}/devices"
SHARE_GROUP: Final = "fieldops-ingest"

DEVICE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
DeviceId = Annotated[str, Meta(min_length=1, max_length=64, pattern=DEVICE_ID_PATTERN)]
MetricName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$")]
FaultCode = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
# Finite and physically plausible: NaN and ±Infinity fail both bounds (a NaN compares false to anything).
Reading = Annotated[float, Meta(ge=-1e12, le=1e12)]
Seq = Annotated[int, Meta(ge=0, le=2**63 - 1)]
EpochMs = Annotated[int, Meta(ge=0, le=2**47)]
Instant = Annotated[datetime, Meta(tz=True)]


class Kind(StrEnum):
    TELEMETRY = "telemetry"
    EVENTS = "events"
    STATUS = "status"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Telemetry(msgspec.Struct, forbid_unknown_fields=True):
    """`{"ts": RFC 3339 or epoch ms, "seq": int, "metrics": {"name": number, …}}`.

    `device`, when a device sends it, must name the topic's device (a cheap check against mis-wired
    publishers; the broker ACL is what actually stops one device speaking for another).
    """

    ts: Instant | EpochMs
    metrics: Annotated[dict[MetricName, Reading], Meta(min_length=1, max_length=64)]
    seq: Seq | None = None
    device: DeviceId | None = None


class FaultEvent(msgspec.Struct, forbid_unknown_fields=True):
    """`{"ts", "code", "severity", "detail"}`: a fault code the machine reported itself."""

    ts: Instant | EpochMs
    code: FaultCode
    severity: Severity = Severity.MAJOR
    detail: Annotated[str, Meta(max_length=2000)] = ""
    seq: Seq | None = None
    device: DeviceId | None = None


class Status(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Limits:
    """What a message may be. Times are relative to the worker's clock when the message is judged."""

    max_bytes: int = 16 * 1024
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Topic:
    device_id: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message is dead-lettered: a stable `reason` code and a human `detail`."""

    reason: str
    detail: str
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class TelemetryMessage:
    device_id: str
    ts: datetime
    seq: int | None
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class EventMessage:
    device_id: str
    ts: datetime
    seq: int | None
    code: str
    severity: Severity
    detail: str


@dataclass(frozen=True, slots=True)
class StatusMessage:
    device_id: str
    status: Status


Judged = TelemetryMessage | EventMessage | StatusMessage | Rejected


def telemetry_topic(device_id: str) -> str:
    return f"{DEVICE_TOPICS}/{device_id}/telemetry"


def events_topic(device_id: str) -> str:
    return f"{DEVICE_TOPICS}/{device_id}/events"


def status_topic(device_id: str) -> str:
    return f"{DEVICE_TOPICS}/{device_id}/status"


def assignments_topic(engineer_id: int) -> str:
    return f"{PREFIX}/engineers/{engineer_id}/assignments"


def subscriptions(*, shared: bool, group: str = SHARE_GROUP) -> list[str]:
    """The ingest worker's topic filters: MQTT 5 shared ones on Mosquitto, plain ones on MQTT 3.1.1."""
    filters = [f"{DEVICE_TOPICS}/+/{kind}" for kind in Kind]
    return [f"$share/{group}/{f}" for f in filters] if shared else filters


_TOPICS: dict[str, Topic | None] = {}


def parse_topic(topic: str) -> Topic | None:
    """The device and kind of a contract topic (cached: a fleet uses a bounded set of topics)."""
    try:
        return _TOPICS[topic]
    except KeyError:
        pass
    parsed = _parse_topic(topic)
    if len(_TOPICS) >= 100_000:
        _TOPICS.clear()
    _TOPICS[topic] = parsed
    return parsed


def _parse_topic(topic: str) -> Topic | None:
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}/{parts[2]}" != DEVICE_TOPICS:
        return None
    device_id, kind = parts[3], parts[4]
    if not _DEVICE_ID.match(device_id) or kind not in Kind.__members__.values():
        return None
    return Topic(device_id, Kind(kind))


def is_valid_device_id(device_id: str) -> bool:
    return bool(_DEVICE_ID.match(device_id))


_JSON_CONTENT = frozenset({"application/json", "text/json"})
_MSGPACK_CONTENT = frozenset({"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"})
_JSON_START = frozenset(b"{ \t\r\n")

_json_telemetry = msgspec.json.Decoder(Telemetry)
_msgpack_telemetry = msgspec.msgpack.Decoder(Telemetry)
_json_event = msgspec.json.Decoder(FaultEvent)
_msgpack_event = msgspec.msgpack.Decoder(FaultEvent)


def _is_msgpack_map(first: int) -> bool:
    return 0x80 <= first <= 0x8F or first in (0xDE, 0xDF)


def judge(
    topic: str,
    payload: bytes | bytearray,
    now: datetime,
    *,
    content_type: str | None = None,
    limits: Limits | None = None,
) -> Judged:
    """Decode and validate one message. Never raises for anything a device can send."""
    limits = limits or _LIMITS
    parsed = parse_topic(topic)
    if parsed is None:
        return Rejected("bad_topic", f"not a device topic of contract v1: {topic[:200]!r}")
    device = parsed.device_id
    if len(payload) > limits.max_bytes:
        return Rejected("too_large", f"{len(payload)} bytes; the limit is {limits.max_bytes}", device)
    if parsed.kind is Kind.STATUS:
        try:
            return StatusMessage(device, Status(bytes(payload).decode("ascii").strip()))
        except (UnicodeDecodeError, ValueError):
            return Rejected("bad_status", "a status is exactly `online` or `offline`", device)
    body = _decode(parsed.kind, bytes(payload), content_type, device)
    if isinstance(body, Rejected):
        return body
    if body.device is not None and body.device != device:
        return Rejected(
            "device_mismatch", f"the body says device {body.device!r}, the topic says {device!r}", device
        )
    ts = _instant(body.ts)
    if ts > now + limits.max_future:
        return Rejected(
            "ts_in_future", f"ts {ts.isoformat()} is ahead of the server's {now.isoformat()}", device
        )
    if ts < now - limits.max_age:
        return Rejected("ts_too_old", f"ts {ts.isoformat()} is older than {limits.max_age}", device)
    if isinstance(body, Telemetry):
        return TelemetryMessage(device, ts, body.seq, body.metrics)
    return EventMessage(device, ts, body.seq, body.code, body.severity, body.detail)


_LIMITS = Limits()


def _decode(
    kind: Kind, payload: bytes, content_type: str | None, device: str
) -> Telemetry | FaultEvent | Rejected:
    if not payload:
        return Rejected("empty", "empty body", device)
    json_body = _is_json(payload, content_type)
    if json_body is None:
        return Rejected("bad_encoding", "neither a JSON object nor a MessagePack map", device)
    try:
        if json_body:
            payload.decode("utf-8")  # msgspec checks strings; this also covers bytes between tokens
        if kind is Kind.TELEMETRY:
            return (_json_telemetry if json_body else _msgpack_telemetry).decode(payload)
        return (_json_event if json_body else _msgpack_event).decode(payload)
    except UnicodeDecodeError as exc:
        return Rejected("not_utf8", f"text is not UTF-8 ({exc.reason} at byte {exc.start})", device)
    except msgspec.ValidationError as exc:
        return Rejected("invalid", str(exc)[:500], device)
    except (msgspec.DecodeError, ValueError, OverflowError) as exc:
        return Rejected("malformed", str(exc)[:500], device)


def _is_json(payload: bytes, content_type: str | None) -> bool | None:
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media in _JSON_CONTENT:
            return True
        if media in _MSGPACK_CONTENT:
            return False
    first = payload[0]
    if first in _JSON_START:
        return True
    if _is_msgpack_map(first):
        return False
    return None


def _instant(value: datetime | int) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value / 1000, UTC)


def encode_json(obj: object) -> bytes:
    return msgspec.json.encode(obj)


def encode_msgpack(obj: object) -> bytes:
    return msgspec.msgpack.encode(obj)
