"""Great-circle geometry shared by both storage backends, so "near a point" means the same everywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass

# PostGIS computes geography distances on a sphere of this radius when asked not to use the spheroid
# (the WGS 84 mean radius, (2a + b) / 3); using it here keeps SQLite and PostGIS answers identical.
EARTH_RADIUS_M = 6_371_008.771415


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude {self.lon} is outside -180..180")


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Haversine distance in metres."""
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b_lon - a_lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    # True when the box crosses the antimeridian: then longitudes match if >= min_lon OR <= max_lon.
    wraps: bool


def bounding_box(center: Point, radius_m: float) -> BoundingBox:
    """A lat/lon box that contains every point within `radius_m` of `center` (a cheap index pre-filter)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    min_lat, max_lat = center.lat - dlat, center.lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        # Near a pole every longitude can be within reach.
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0, wraps=False)
    # The widest longitude span is at the latitude of the tangent points, not at the centre.
    dlon = math.degrees(
        math.asin(min(1.0, math.sin(radius_m / EARTH_RADIUS_M) / math.cos(math.radians(center.lat))))
    )
    min_lon, max_lon = center.lon - dlon, center.lon + dlon
    if min_lon < -180.0:
        return BoundingBox(min_lat, max_lat, min_lon + 360.0, max_lon, wraps=True)
    if max_lon > 180.0:
        return BoundingBox(min_lat, max_lat, min_lon, max_lon - 360.0, wraps=True)
    return BoundingBox(min_lat, max_lat, min_lon, max_lon, wraps=False)
