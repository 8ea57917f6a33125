"""What `wire(system)` puts in `runtime.features["dispatch"]` for the routes and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.planning.config import PlanningConfig
from dispatch.planning.replan import Replanner


@dataclass(frozen=True, slots=True)
class DispatchFeature:
    config: PlanningConfig
    replanner: Replanner
