""" "What is near this point": one interface, a PostGIS and a portable implementation behind it.

Both measure on the same sphere (see core.domain.geo.EARTH_RADIUS_M), so they return the same rows;
tests/store/test_nearby.py holds them to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.domain.geo import Point, bounding_box
from core.store.db import backend_of
from core.store.models import Engineer, Site, WorkOrder


@dataclass(frozen=True, slots=True)
class Near:
    id: int
    distance_m: float


class GeoColumns(Protocol):
    """Builds SQL for one located table: a filter and a distance, for composing into larger queries."""

    def within(self, center: Point, radius_m: float) -> ColumnElement[bool]: ...
    def distance(self, center: Point) -> ColumnElement[float]: ...


@dataclass(frozen=True, slots=True)
class PostgisColumns:
    table: str
    geog: str

    def _geog(self) -> ColumnElement[object]:
        # A literal column: the table is already in the query's FROM (the ORM's own), not a second copy.
        return sa.literal_column(f"{self.table}.{self.geog}", Geography(geometry_type="POINT", srid=4326))

    @staticmethod
    def _point(center: Point) -> ColumnElement[object]:
        return sa.cast(sa.func.ST_SetSRID(sa.func.ST_MakePoint(center.lon, center.lat), 4326), Geography)

    def within(self, center: Point, radius_m: float) -> ColumnElement[bool]:
        # use_spheroid=false: the GiST index still applies, and the sphere matches the portable backend.
        return sa.func.ST_DWithin(self._geog(), self._point(center), radius_m, False)

    def distance(self, center: Point) -> ColumnElement[float]:
        return sa.func.ST_Distance(self._geog(), self._point(center), False)


@dataclass(frozen=True, slots=True)
class PortableColumns:
    lat: sa.ColumnElement[float]
    lon: sa.ColumnElement[float]

    def within(self, center: Point, radius_m: float) -> ColumnElement[bool]:
        box = bounding_box(center, radius_m)
        lon_ok = (
            sa.or_(self.lon >= box.min_lon, self.lon <= box.max_lon)
            if box.wraps
            else self.lon.between(box.min_lon, box.max_lon)
        )
        # The box uses the (lat, lon) index; the exact test runs on the few rows inside it.
        return sa.and_(self.lat.between(box.min_lat, box.max_lat), lon_ok, self.distance(center) <= radius_m)

    def distance(self, center: Point) -> ColumnElement[float]:
        return sa.func.fo_distance_m(self.lat, self.lon, center.lat, center.lon, type_=sa.Float)


def site_geo(session: Session) -> GeoColumns:
    if backend_of(session) == "postgresql":
        return PostgisColumns("sites", "geog")
    return PortableColumns(Site.lat, Site.lon)  # type: ignore[arg-type]


def engineer_geo(session: Session) -> GeoColumns:
    if backend_of(session) == "postgresql":
        return PostgisColumns("engineers", "home_geog")
    return PortableColumns(Engineer.home_lat, Engineer.home_lon)  # type: ignore[arg-type]


class NearbyRepository:
    """Work orders and engineers near a point, nearest first, on whichever backend the session uses."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def work_orders_near(
        self, center: Point, radius_m: float, *, statuses: frozenset[str] | None = None, limit: int = 100
    ) -> list[Near]:
        geo = site_geo(self.session)
        dist = geo.distance(center).label("d")
        query = (
            sa.select(WorkOrder.id, dist)
            .join(Site, Site.id == WorkOrder.site_id)
            .where(geo.within(center, radius_m))
            .order_by(dist, WorkOrder.id)
            .limit(limit)
        )
        if statuses:
            query = query.where(WorkOrder.status.in_(sorted(statuses)))
        return [Near(row.id, float(row.d)) for row in self.session.execute(query)]

    def engineers_near(self, center: Point, radius_m: float, *, limit: int = 100) -> list[Near]:
        geo = engineer_geo(self.session)
        dist = geo.distance(center).label("d")
        query = (
            sa.select(Engineer.id, dist)
            .where(Engineer.active.is_(True), geo.within(center, radius_m))
            .order_by(dist, Engineer.id)
            .limit(limit)
        )
        return [Near(row.id, float(row.d)) for row in self.session.execute(query)]
