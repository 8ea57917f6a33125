"""/parts, /stock, /stock-locations, … (filled in by the inventory work)."""

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
