"""The features beside the core, and what each adds to a running system.

A feature module (`fieldops/commands/<name>.py`) may define:
- `COMMANDS`: click commands added to `fieldops`;
- `wire(system)`: called once by `build_system` (bus subscriptions, feature settings in `runtime.features`);
- `start(system)`: called by `fieldops serve`; background work beside the API, returning how to stop it;
- `seed_demo(system, ctx, echo)`: called by the demo loader after the core's demo data exists.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from fieldops.commands import automation, dispatch, fieldwork, inventory, iot, servicedesk

if TYPE_CHECKING:
    from core.services.context import ServiceContext
    from fieldops.wiring import System

# Automation seeds last: its demo history (two years of closed work orders) must not exist yet when the
# service desk's demo sends a survey for every finished job it finds.
FEATURES: tuple[ModuleType, ...] = (inventory, fieldwork, iot, dispatch, servicedesk, automation)

Stop = Callable[[], None]


def wire_features(system: System) -> None:
    for feature in FEATURES:
        wire = getattr(feature, "wire", None)
        if wire is not None:
            wire(system)


def start_features(system: System) -> list[Stop]:
    stops: list[Stop] = []
    for feature in FEATURES:
        start = getattr(feature, "start", None)
        stop = start(system) if start is not None else None
        if stop is not None:
            stops.append(stop)
    return stops


def seed_feature_demos(system: System, ctx: ServiceContext, echo: Callable[[str], None]) -> None:
    for feature in FEATURES:
        seed = getattr(feature, "seed_demo", None)
        if seed is not None:
            seed(system, ctx, echo)
