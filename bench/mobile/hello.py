"""The ceiling for bench/mobile/load.py: a bare Litestar app with one async JSON endpoint.

    python -m uvicorn hello:app --app-dir bench/mobile --port 8765

No database, no auth, no middleware: whatever it cannot beat on this machine, no endpoint of the real
app can either.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar(route_handlers=[hello], openapi_config=None)
