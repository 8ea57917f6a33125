"""Is a GPS fix on site? Within the site's radius, allowing for the fix's own stated accuracy."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.geo import distance_m

# Phones over-report precision indoors; a fix claiming 2 m is treated as no better than this.
MIN_ACCURACY_M = 10.0
# A fix worse than this says nothing about where the engineer is.
MAX_USEFUL_ACCURACY_M = 1_000.0


@dataclass(frozen=True, slots=True)
class Fix:
    distance_m: float
    on_site: bool


def judge(
    site_lat: float, site_lon: float, radius_m: float, lat: float, lon: float, accuracy_m: float
) -> Fix:
    distance = distance_m(site_lat, site_lon, lat, lon)
    if accuracy_m > MAX_USEFUL_ACCURACY_M:
        return Fix(distance, on_site=False)
    return Fix(distance, on_site=distance <= radius_m + max(accuracy_m, MIN_ACCURACY_M))
