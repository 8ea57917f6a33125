"""/devices, /alarms, /iot/stats (filled in by the IoT work)."""

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
