"""Travel-time providers: an interface, and the default haversine estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dispatch.optimizer.model import Location

EARTH_RADIUS_M = 6_371_008.8

IntMatrix = npt.NDArray[np.int64]

_BLOCK = 256  # rows of the haversine matrix computed at a time


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Square matrices over the points asked for, in that order: seconds and metres, integers."""

    durations: IntMatrix
    distances: IntMatrix

    def __post_init__(self) -> None:
        n = self.durations.shape[0]
        if self.durations.shape != (n, n) or self.distances.shape != (n, n):
            raise ValueError("travel matrices must be square and of equal size")
        if n and (self.durations.min() < 0 or self.distances.min() < 0):
            raise ValueError("travel matrices must not be negative")


class TravelTimeProvider(Protocol):
    def matrix(self, points: Sequence[Location]) -> TravelMatrix: ...


@dataclass(frozen=True, slots=True)
class HaversineTravel:
    """Great-circle distance x circuity (roads are not straight) at a constant average speed."""

    circuity: float = 1.3
    speed_kmh: float = 30.0  # urban average including parking, for a city like Shanghai

    def matrix(self, points: Sequence[Location]) -> TravelMatrix:
        n = len(points)
        lat = np.radians(np.fromiter((p.lat for p in points), dtype=np.float64, count=n))
        lon = np.radians(np.fromiter((p.lon for p in points), dtype=np.float64, count=n))
        # sin((a - b) / 2) = sin(a/2)cos(b/2) - cos(a/2)sin(b/2): products of per-point values
        # instead of a sine per pair, and rows in blocks that stay in cache (3,300 points: 2.2 s → ~0.5 s).
        s_lat, c_lat = np.sin(lat / 2), np.cos(lat / 2)
        s_lon, c_lon = np.sin(lon / 2), np.cos(lon / 2)
        cos_lat = np.cos(lat)
        metres = np.empty((n, n), dtype=np.int64)
        seconds = np.empty((n, n), dtype=np.int64)
        per_metre = 2 * EARTH_RADIUS_M * self.circuity
        for a in range(0, n, _BLOCK):
            b = min(n, a + _BLOCK)
            half_dlat = s_lat[a:b, None] * c_lat[None, :] - c_lat[a:b, None] * s_lat[None, :]
            half_dlon = s_lon[a:b, None] * c_lon[None, :] - c_lon[a:b, None] * s_lon[None, :]
            h = half_dlat**2 + cos_lat[a:b, None] * cos_lat[None, :] * half_dlon**2
            m = np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * per_metre
            metres[a:b] = np.rint(m)
            seconds[a:b] = np.rint(m / (self.speed_kmh / 3.6))
        return TravelMatrix(durations=seconds, distances=metres)


@dataclass(frozen=True, slots=True)
class MatrixTravel:
    """A matrix fetched beforehand (e.g. from a road-network service) over known points.

    The optimizer asks for sub-matrices by location; a location it was not given is an error
    rather than a silent estimate, so a plan never mixes road times with straight lines.
    """

    points: tuple[Location, ...]
    table: TravelMatrix

    def __post_init__(self) -> None:
        if self.table.durations.shape[0] != len(self.points):
            raise ValueError("matrix size does not match the number of points")

    def matrix(self, points: Sequence[Location]) -> TravelMatrix:
        index = {(p.lat, p.lon): i for i, p in enumerate(self.points)}
        try:
            rows = np.fromiter((index[(p.lat, p.lon)] for p in points), dtype=np.int64, count=len(points))
        except KeyError as exc:
            raise ValueError(f"no travel times for location {exc.args[0]}") from None
        pick = np.ix_(rows, rows)
        return TravelMatrix(durations=self.table.durations[pick], distances=self.table.distances[pick])
