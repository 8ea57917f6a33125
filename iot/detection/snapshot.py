"""The persisted form of detector state (MessagePack via msgspec), versioned.

`SNAPSHOT_VERSION` changes whenever these Structs change incompatibly; a snapshot of another version is
refused with `SnapshotError` and the caller starts that detector afresh (it re-learns within one window).
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from iot.detection.anomaly import AnomalyState
from iot.detection.history import HistoryState
from iot.detection.rate import RateState
from iot.detection.threshold import ThresholdState
from iot.detection.trend import TrendState

SNAPSHOT_VERSION = 1

AnyRuleState = ThresholdState | RateState | AnomalyState | TrendState


class SnapshotError(ValueError):
    """A snapshot that cannot be restored: corrupt, another version, or another metric."""


class MetricSnapshot(msgspec.Struct, kw_only=True):
    version: int
    metric: str
    last_t: float | None  # epoch seconds of the last accepted sample
    history: HistoryState
    rules: dict[str, AnyRuleState]  # by alarm type


class AssetSnapshot(msgspec.Struct, kw_only=True):
    version: int
    metrics: dict[str, MetricSnapshot]
    offline: bool


T = TypeVar("T", MetricSnapshot, AssetSnapshot)


class _Header(msgspec.Struct):
    version: int


_header = msgspec.msgpack.Decoder(_Header)
_encoder = msgspec.msgpack.Encoder()


def encode(snapshot: MetricSnapshot | AssetSnapshot) -> bytes:
    return _encoder.encode(snapshot)


def decode(data: bytes, kind: type[T]) -> T:
    # Read the version alone first, so a snapshot from another version is reported as such rather than
    # as whatever field happens not to match.
    try:
        version = _header.decode(data).version
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"not a detector snapshot: {exc}") from None
    if version != SNAPSHOT_VERSION:
        raise SnapshotError(f"snapshot version {version}, this code reads {SNAPSHOT_VERSION}")
    try:
        return msgspec.msgpack.decode(data, type=kind)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"corrupt detector snapshot: {exc}") from None
