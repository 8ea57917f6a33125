"""Great-circle helpers: the bounding box never misses a point inside the circle."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.geo import Point, bounding_box, distance_m


@given(
    lat=st.floats(-89.9, 89.9),
    lon=st.floats(-180, 180),
    radius=st.floats(1, 2_000_000),
    bearing=st.floats(0, 2 * math.pi),
    frac=st.floats(0, 0.999),
)
def test_bounding_box_contains_the_circle(
    lat: float, lon: float, radius: float, bearing: float, frac: float
) -> None:
    """Every point within the radius lies inside the pre-filter box (else the portable query misses it)."""
    centre = Point(lat, lon)
    d = radius * frac
    # Destination point along a great circle.
    ang = d / 6_371_008.771415
    phi1, lmb1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(ang) + math.cos(phi1) * math.sin(ang) * math.cos(bearing))
    lmb2 = lmb1 + math.atan2(
        math.sin(bearing) * math.sin(ang) * math.cos(phi1), math.cos(ang) - math.sin(phi1) * math.sin(phi2)
    )
    p_lat, p_lon = math.degrees(phi2), ((math.degrees(lmb2) + 540) % 360) - 180
    assert distance_m(lat, lon, p_lat, p_lon) == pytest.approx(d, rel=1e-6, abs=1e-3)
    box = bounding_box(centre, radius)
    eps = 1e-9
    assert box.min_lat - eps <= p_lat <= box.max_lat + eps
    if box.wraps:
        assert p_lon >= box.min_lon - eps or p_lon <= box.max_lon + eps
    else:
        assert box.min_lon - eps <= p_lon <= box.max_lon + eps
