"""What planning needs from the settings, and the travel-time provider those settings choose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.optimizer import HaversineTravel, Location, MatrixTravel, TravelTimeProvider
from dispatch.planning.osrm import OsrmTravel


@dataclass(frozen=True, slots=True)
class PlanningConfig:
    osrm_url: str = ""
    osrm_max_table_size: int = 100  # the server's --max-table-size: larger tables go in blocks
    travel_speed_kmh: float = 30.0
    travel_circuity: float = 1.35
    optimizer_seconds: float = 10.0  # the most any optimisation may take
    replan_seconds: float = 3.0  # the urgent re-plan's budget (capped by optimizer_seconds)
    replan_max_moved: int = 3  # visits an urgent re-plan may take from one engineer to another

    def travel_for(self, points: Sequence[Location]) -> TravelTimeProvider:
        """Road times fetched once for exactly these points, or the straight-line estimate."""
        if not self.osrm_url:
            return HaversineTravel(circuity=self.travel_circuity, speed_kmh=self.travel_speed_kmh)
        unique = tuple(dict.fromkeys(points))
        return MatrixTravel(
            unique, OsrmTravel(self.osrm_url, max_table_size=self.osrm_max_table_size).matrix(unique)
        )
