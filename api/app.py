"""The Litestar application: routes, the auth middleware, the permission guard, problem details."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.types import ControllerRouterHandler

from api.access import permission_guard
from api.deps import Runtime, provide_ctx, provide_session
from api.idempotency import IdempotencyMiddleware
from api.problems import handle_exception
from api.routes import automation as automation_routes
from api.routes import console as console_routes
from api.routes import dispatch as dispatch_routes
from api.routes import inventory as inventory_routes
from api.routes import iot as iot_routes
from api.routes import kpis as kpi_routes
from api.routes import servicedesk as servicedesk_routes
from api.routes.auth import AuthController
from api.routes.fieldwork import FieldworkController
from api.routes.health import health, ready
from api.routes.mobile import MobileController
from api.routes.records import (
    AssetController,
    ContractController,
    CustomerController,
    EngineerController,
    SiteController,
)
from api.routes.setup import SetupController
from api.routes.visits import VisitController
from api.routes.work_orders import WorkOrderController

ROUTES: list[ControllerRouterHandler] = [
    health,
    ready,
    AuthController,
    WorkOrderController,
    VisitController,
    CustomerController,
    ContractController,
    SiteController,
    AssetController,
    EngineerController,
    SetupController,
    MobileController,
    FieldworkController,
    *inventory_routes.ROUTES,
    *iot_routes.ROUTES,
    *dispatch_routes.ROUTES,
    *automation_routes.ROUTES,
    *servicedesk_routes.ROUTES,
    *console_routes.ROUTES,
    *kpi_routes.ROUTES,
]


def create_app(
    rt: Runtime, *, extra_routes: Sequence[ControllerRouterHandler] | None = None, debug: bool = False
) -> Litestar:
    return Litestar(
        route_handlers=[*ROUTES, *(extra_routes or [])],
        dependencies={
            "ctx": Provide(provide_ctx),
            "session": Provide(provide_session),
        },
        guards=[permission_guard],
        # After the auth middleware (prepended by on_app_init), so the key is scoped to the signed-in user.
        middleware=[IdempotencyMiddleware()],
        on_app_init=[rt.jwt_auth.on_app_init],
        exception_handlers={Exception: handle_exception},
        openapi_config=OpenAPIConfig(
            title="fieldops",
            version="1.0.0",
            description="Field-service dispatch: work orders, SLAs, engineers, visits. "
            "Sign in with POST /auth/token and send `Authorization: Bearer <access_token>`.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        state=State({"runtime": rt}),
        debug=debug,
    )
