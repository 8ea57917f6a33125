"""The PostGIS and portable "near a point" implementations give the same answers on the same data."""

from __future__ import annotations

import math
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.domain.clock import FixedClock
from core.domain.geo import Point
from core.services import customers, engineers, setup, workorders
from core.services.context import Actor, ServiceContext
from core.store.db import make_engine, make_sessionmaker
from core.store.nearby import NearbyRepository
from tests.conftest import T0, truncate_all
from tests.world import SHANGHAI_CALENDAR

pytestmark = pytest.mark.postgres

# Clustered points around Shanghai plus a few awkward places: the antimeridian and near a pole.
CENTRES = [Point(31.23, 121.47), Point(-16.5, 179.9), Point(78.2, 15.6), Point(0.0, 0.0)]


def populate(session: Session, seed: int) -> None:
    ctx = ServiceContext(session, FixedClock(T0), Actor.system("geo-test"))
    rng = random.Random(seed)
    territory = setup.create_territory(ctx, setup.TerritoryInput(name="t", calendar=SHANGHAI_CALENDAR))
    customer = customers.create_customer(ctx, customers.CustomerInput(code="C", name="c"))
    for i in range(120):
        centre = CENTRES[i % len(CENTRES)]
        lat = max(-90.0, min(90.0, centre.lat + rng.gauss(0, 0.3)))
        lon = ((centre.lon + rng.gauss(0, 0.3) + 180.0) % 360.0) - 180.0
        site = customers.create_site(
            ctx,
            customers.SiteInput(
                customer_id=customer.id,
                territory_id=territory.id,
                name=f"s{i}",
                address="a",
                lat=lat,
                lon=lon,
            ),
        )
        workorders.create_work_order(ctx, workorders.WorkOrderInput(title=f"w{i}", site_id=site.id))
        if i % 3 == 0:
            engineers.create_engineer(
                ctx,
                engineers.EngineerInput(name=f"e{i}", territory_id=territory.id, home_lat=lat, home_lon=lon),
            )


@pytest.fixture(scope="module")
def both(
    sqlite_template: Path, postgres_x: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Engine]]:
    path = tmp_path_factory.mktemp("geo") / "geo.db"
    shutil.copy(sqlite_template, path)
    sqlite = make_engine(f"sqlite:///{path}")
    truncate_all(postgres_x)
    for engine in (sqlite, postgres_x):
        with make_sessionmaker(engine)() as session:
            populate(session, seed=7)
    yield sqlite, postgres_x
    sqlite.dispose()
    truncate_all(postgres_x)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    centre=st.sampled_from(CENTRES),
    dlat=st.floats(-0.5, 0.5),
    dlon=st.floats(-0.5, 0.5),
    radius_km=st.floats(0.5, 120),
)
def test_same_rows_same_distances(
    both: tuple[Engine, Engine], centre: Point, dlat: float, dlon: float, radius_km: float
) -> None:
    probe = Point(max(-90.0, min(90.0, centre.lat + dlat)), ((centre.lon + dlon + 180.0) % 360.0) - 180.0)
    answers = []
    for engine in both:
        with make_sessionmaker(engine)() as session:
            repo = NearbyRepository(session)
            answers.append(
                (
                    repo.work_orders_near(probe, radius_km * 1000, limit=1000),
                    repo.engineers_near(probe, radius_km * 1000, limit=1000),
                )
            )
    (wo_a, eng_a), (wo_b, eng_b) = answers
    for a, b in ((wo_a, wo_b), (eng_a, eng_b)):
        assert [n.id for n in a] == [n.id for n in b]
        for x, y in zip(a, b, strict=True):
            assert math.isclose(x.distance_m, y.distance_m, rel_tol=1e-9, abs_tol=1e-3)
