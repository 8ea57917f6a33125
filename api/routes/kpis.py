"""/kpis: first response, MTTR, first-time fix, SLA attainment, utilisation, travel share and CSAT over a
period, by day or week, in total, per territory or per engineer (definitions in console/kpis.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import get
from litestar.params import FromQuery, QueryParameter
from litestar.types import ControllerRouterHandler

from api.access import needs
from api.deps import Ctx
from console.kpis import Bucket, GroupBy, Query, kpis


@get("/kpis", opt=needs("board.read"), sync_to_thread=True, tags=["console"])
def get_kpis(
    ctx: Ctx,
    start: Annotated[date, QueryParameter(name="from")],
    end: Annotated[date, QueryParameter(name="to")],
    bucket: FromQuery[Bucket] = "day",
    group_by: FromQuery[GroupBy] = "none",
    territory_id: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> dict[str, Any]:
    """Service KPIs for the days `from`–`to` (inclusive, the territory's time zone, at most 366 days)."""
    return kpis(ctx.session, ctx.now(), Query(start, end, bucket, group_by, territory_id))


ROUTES: list[ControllerRouterHandler] = [get_kpis]
