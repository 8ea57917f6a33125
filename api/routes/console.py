"""The dispatcher's console: the page and its assets (public: they hold no data), the board read model,
and the live feed of changes (server-sent events)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio
import msgspec
from litestar import Request, Response, get
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.access import needs, public
from api.deps import Ctx, runtime
from console.board import Board, board
from console.live import changes
from core.store import outbox

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"
# How often an open console looks for changes; the outbox is the truth, so nothing is missed in between.
POLL_SECONDS = 1.0
PAGE = (STATIC / "index.html").read_bytes()
# An optional map tile layer, e.g. "https://tiles.example.com/{z}/{x}/{y}.png" (a company's own tile
# server): nothing on the map needs it, and without it the page loads nothing from elsewhere.
TILES_VARIABLE = "FIELDOPS_CONSOLE_TILES"


class ConsoleConfig(msgspec.Struct, kw_only=True):
    tiles: str | None


def _tiles() -> str | None:
    url = os.environ.get(TILES_VARIABLE, "").strip()
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _policy() -> str:
    tiles = _tiles()
    origin = f" {urlsplit(tiles).scheme}://{urlsplit(tiles).netloc}" if tiles else ""
    # The page runs only our own script and talks only to this server (and shows tiles from the one
    # configured tile server, if any).
    return (
        f"default-src 'self'; img-src 'self' data: blob:{origin}; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    )


@get("/console", opt=public(), include_in_schema=False, media_type="text/html")
async def console_page() -> Response[bytes]:
    return Response(
        PAGE,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": _policy(), "X-Content-Type-Options": "nosniff"},
    )


@get("/console/config", opt=public(), include_in_schema=False)
async def console_config() -> ConsoleConfig:
    """What the page needs before sign-in: the optional tile layer."""
    return ConsoleConfig(tiles=_tiles())


@get("/board", opt=needs("board.read"), sync_to_thread=True)
def get_board(
    ctx: Ctx,
    day: Annotated[date | None, QueryParameter(name="day")] = None,
    territory_id: Annotated[int | None, QueryParameter(name="territory_id")] = None,
) -> Board:
    """The day's board: engineers, their visits as blocks, and the unplanned queue by SLA urgency."""
    return board(ctx.session, ctx.now(), day, territory_id)


@get("/live", opt=needs("board.read"))
async def live(
    request: Request[Any, Any, Any], since: Annotated[str | None, QueryParameter(max_length=60)] = None
) -> ServerSentEvent:
    """Server-sent events: each domain event that changes the board, as it is committed."""
    rt = runtime(request.app.state)

    def poll(cursor: outbox.Cursor | None) -> tuple[outbox.Cursor, list[dict[str, Any]]]:
        with rt.sessions() as session:
            if cursor is None:
                return outbox.head(session), []
            return changes(session, cursor)

    start = outbox.decode(since) if since else None
    ends_at = anyio.current_time() + rt.live_stream_seconds

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        cursor, _ = await anyio.to_thread.run_sync(poll, start) if start is None else (start, [])
        yield ServerSentEventMessage(event="ready", data=outbox.encode(cursor))
        while anyio.current_time() < ends_at:
            cursor, events = await anyio.to_thread.run_sync(poll, cursor)
            for event in events:
                yield ServerSentEventMessage(
                    event="change", data=msgspec.json.encode(event).decode(), id=outbox.encode(cursor)
                )
            if not events:
                # A comment line now and then keeps proxies from closing an idle stream.
                yield ServerSentEventMessage(comment="idle")
            await anyio.sleep(POLL_SECONDS)

    return ServerSentEvent(stream())


ROUTES: list[ControllerRouterHandler] = [
    console_page,
    console_config,
    get_board,
    live,
    create_static_files_router(
        "/console/assets", directories=[STATIC], opt=public(), include_in_schema=False
    ),
]
