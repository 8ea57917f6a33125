"""Dispatch fixtures: a second engineer, so that plans have a choice to make."""

from __future__ import annotations

import pytest

from core.services import engineers
from core.services.context import Actor, ServiceContext
from tests.world import World


@pytest.fixture
def zhao(world: World) -> int:
    """A second hvac engineer working Mondays, based in Songjiang next to site_b."""
    rt = world.system.runtime
    with rt.sessions() as s:
        ctx = ServiceContext(s, rt.clock, Actor.system("test-setup"))
        return engineers.create_engineer(
            ctx,
            engineers.EngineerInput(
                name="Zhao",
                territory_id=world.ids["territory"],
                home_lat=31.04,
                home_lon=121.23,
                skills=[engineers.SkillLevel("hvac", 3)],
                shifts=[engineers.Shift(weekday=0, start="08:00", end="18:00", break_minutes=30)],
            ),
        ).id
