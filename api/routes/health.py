"""Liveness and readiness probes for load balancers and orchestrators (no sign-in needed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get

from api.access import public
from api.deps import runtime
from api.problems import problem


@get("/health", opt=public(), tags=["health"])
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", opt=public(), tags=["health"], sync_to_thread=True)
def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    """The process can serve: the database answers."""
    try:
        with runtime(request.app.state).sessions() as session:
            session.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return problem(503, f"database unreachable: {type(exc).__name__}", slug="not-ready")
    return Response({"status": "ready", "database": "ok"})
