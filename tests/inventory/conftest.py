"""Inventory fixtures: the stock world, with the inventory event handlers subscribed."""

from __future__ import annotations

import pytest

from inventory.subscriptions import subscribe
from tests.inventory.helpers import Stock, build_stock
from tests.world import World


@pytest.fixture
def stock(world: World) -> Stock:
    rt = world.system.runtime
    # What the composition root does at start-up (see the inventory report): reserve on assignment etc.
    subscribe(rt.bus, rt.sessions, rt.clock)
    return build_stock(world)
