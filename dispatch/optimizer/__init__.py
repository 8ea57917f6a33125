"""The optimizer: plain data in, plain data out. No ORM, no web, no network, no clock, no files.

Travel times come from a `TravelTimeProvider`: the pure haversine estimate, or a matrix
precomputed at the edge (`dispatch.planning.osrm` fills one from a road-network service).
"""

from dispatch.optimizer.model import (
    Break,
    BreakTaken,
    Engineer,
    Explanation,
    Job,
    Location,
    LockedVisit,
    PartsMode,
    Plan,
    Route,
    SolveOptions,
    Stop,
    TimeWindow,
    Unassigned,
    UnassignedReason,
    Weights,
)
from dispatch.optimizer.solver import Progress, greedy_plan, solve
from dispatch.optimizer.travel import HaversineTravel, MatrixTravel, TravelMatrix, TravelTimeProvider
from dispatch.optimizer.validate import validate_plan

__all__ = [
    "Break",
    "BreakTaken",
    "Engineer",
    "Explanation",
    "HaversineTravel",
    "Job",
    "Location",
    "LockedVisit",
    "MatrixTravel",
    "PartsMode",
    "Plan",
    "Progress",
    "Route",
    "SolveOptions",
    "Stop",
    "TimeWindow",
    "TravelMatrix",
    "TravelTimeProvider",
    "Unassigned",
    "UnassignedReason",
    "Weights",
    "greedy_plan",
    "solve",
    "validate_plan",
]
