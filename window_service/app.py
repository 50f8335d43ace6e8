"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from . import __version__, housekeeping, metrics
from . import models as _every_table  # noqa: F401  (all mapped: audit verify checks every table)
from .admin import pages as admin_pages
from .admin.device_routes import router as admin_devices_router
from .admin.routes import router as admin_router
from .admin.setup_routes import router as admin_setup_router
from .api.endpoint import ApiRouter
from .api.errors import (
    ApiError,
    UnexpectedErrorMiddleware,
    api_error_handler,
    http_exception_handler,
    server_error_handler,
)
from .api.openapi import build_openapi
from .appointments import pages as appointment_pages
from .appointments.remote_routes import router as remote_tickets_router
from .appointments.routes import router as appointments_router
from .audit.routes import router as audit_router
from .auth.principal import Authenticator
from .auth.routes import router as auth_router
from .auth.sessions import PageSessionMiddleware
from .auth.tokens import TokenSigner
from .cases import pages as cases_pages
from .cases.calendar_routes import router as calendar_router
from .cases.figure_routes import router as case_figures_router
from .cases.routes import router as cases_router
from .chain import AuditKey
from .clock import Clock, SystemClock
from .config import Settings, get_settings
from .db import Database, create_database
from .devices.routes import router as devices_router
from .efficiency import pages as efficiency_pages
from .efficiency.routes import router as efficiency_router
from .evaluation import pages as evaluation_pages
from .evaluation.routes import router as evaluation_router
from .feedback.listeners import FeedbackListener, listen
from .feedback.rectification_routes import router as rectifications_router
from .feedback.routes import router as feedback_router
from .feedback.supervision import router as supervision_router
from .feedback.track_routes import router as track_router
from .inspections.routes import router as inspections_router
from .notify.gateway import Gateway, configured_gateway
from .notify.runner import Notifier
from .openness import pages as openness_pages
from .openness.routes import router as openness_router
from .outbox import delivery as outbox_delivery
from .outbox import service as outbox_service
from .outbox.routes import router as outbox_router
from .queue.routes import router as queue_router
from .queue.snapshot import queue_part
from .queue.terminal_routes import router as queue_terminal_router
from .ratings import pages as ratings_pages
from .ratings.routes import router as ratings_router
from .realtime.hub import Hub
from .realtime.log import EventLog
from .realtime.pg import PgListener
from .realtime.routes import display_routes
from .realtime.snapshot import SnapshotPart, Snapshots
from .regions import pages as region_pages
from .regions.routes import router as regions_router
from .security import SecurityHeadersMiddleware, is_https
from .state import AppState
from .stats import pages as stats_pages
from .stats.estimate_routes import router as stats_estimates_router
from .stats.routes import router as stats_router
from .web.assets import ASSET_DIRS, PageAssets
from .web.routes import routes as web_routes
from .web.templating import page_templates

API_PREFIX = "/api/v1"
#: API paths matched before the others (see ``create_app``).
HOT_API_PATHS = frozenset({"/halls/{hall}/tickets"})

#: Every domain's API router; a new domain adds its router here.
API_ROUTERS: list[ApiRouter] = [
    auth_router,
    queue_router,
    queue_terminal_router,
    track_router,
    devices_router,
    audit_router,
    feedback_router,
    rectifications_router,
    inspections_router,
    ratings_router,
    cases_router,
    case_figures_router,
    calendar_router,
    stats_router,
    regions_router,
    stats_estimates_router,
    admin_router,
    admin_devices_router,
    admin_setup_router,
    appointments_router,
    remote_tickets_router,
    openness_router,
    efficiency_router,
    supervision_router,
    evaluation_router,
    outbox_router,
]

#: Every domain's part of a display's snapshot (the hub knows no domain; realtime/snapshot.py).
SNAPSHOT_PARTS: list[SnapshotPart] = [queue_part]

#: Who hears of a new rating and of a rectification's steps (feedback imports none of them):
#: the outbox queues each for the outside 好差评 platform.
FEEDBACK_LISTENERS: list[FeedbackListener] = [
    FeedbackListener(outbox_service.rating, outbox_service.rectification)
]


#: Every area's pages (staff, office, citizens, the device front-ends); a new area adds its
#: page routes here.
PAGE_ROUTES: list[BaseRoute] = [
    *web_routes,  # sign-in, /terminal, /t/{token}, kiosk, displays, evaluator pad, /qr.svg
    *stats_pages.routes,  # /office/stats (效能统计)
    *region_pages.routes,  # /region (区域比较)
    *cases_pages.routes,  # receipts, correction notices, /lookup, /office/cases
    *admin_pages.routes,  # /office/admin (大厅配置)
    *ratings_pages.routes,  # /board/{hall}, /office/inspections|rectifications|ratings
    *appointment_pages.routes,  # /book/{hall}, /book/manage/{token}, /remote/{hall} (预约)
    *openness_pages.routes,  # /results/{hall} (办件结果公示), /office/openness
    *efficiency_pages.routes,  # /office/warnings (效能告诫) and the printed 告诫书
    *evaluation_pages.routes,  # /ballot/{token}, /supervise, /office/evaluation (民主测评)
]


def page_routes() -> list[BaseRoute]:
    """Pages for staff, office and citizens, and the device front-ends."""
    return list(PAGE_ROUTES)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    run_housekeeping: bool = True,
    gateway: Gateway | None = None,
) -> Starlette:
    """The application. ``gateway`` replaces the SMS/WeChat gateway that ``notify_url``
    configures (tests pass a fake; without ``notify_url`` no number is kept for it)."""
    settings = settings or get_settings()
    listen(FEEDBACK_LISTENERS)
    audit_key = settings.resolved_audit_key()
    assert audit_key is not None
    db = database or create_database(
        settings.database_url,
        echo=settings.echo_sql,
        pool_size=settings.pool_size,
        audit_key=AuditKey(audit_key),
    )
    secret = settings.resolved_secret_key()
    tokens = TokenSigner(secret, settings.token_max_age)
    events = EventLog(db)
    hub = Hub(
        events.fetch,
        events.last_seq,
        settings.ws_client_queue,
        heartbeat_seconds=settings.ws_heartbeat_seconds,
    )
    state = AppState(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        tokens=tokens,
        auth=Authenticator(db.read, tokens),
        hub=hub,
        events=events,
        templates=page_templates(),
    )
    metrics.instrument(state)
    if gateway is None:
        gateway = configured_gateway(settings)
    notifier = Notifier(state, gateway) if gateway is not None and settings.notify_url else None
    specs = [spec for router in API_ROUTERS for spec in router.specs]
    openapi = build_openapi(specs, prefix=API_PREFIX, version=__version__)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        listener = None
        if db.dialect == "postgresql":
            listener = PgListener(settings.database_url, hub)
            listener.start()
            app.state.pg_listener = listener
        if run_housekeeping:
            tasks.append(asyncio.ensure_future(housekeeping.run_forever(state)))
            if settings.platform_url:
                tasks.append(asyncio.ensure_future(outbox_delivery.run_forever(state)))
        if notifier is not None:  # alerts by SMS/WeChat follow the committed events
            tasks.append(asyncio.ensure_future(notifier.run_forever()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if listener is not None:
                await listener.stop()
            await hub.close()
            await db.dispose()
            metrics.worker_exit()

    api_routes: list[BaseRoute] = [Route("/openapi.json", openapi_json, methods=["GET"])]
    for router in API_ROUTERS:
        api_routes.extend(router.routes)
    # Starlette tries routes in order: the kiosks' issuing, by far the busiest, is tried
    # first (no other route has its path, so the order changes no answer).
    api_routes.sort(key=lambda route: getattr(route, "path", "") not in HOT_API_PATHS)
    routes: list[BaseRoute] = [
        Mount(API_PREFIX, routes=api_routes),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.metrics_endpoint, methods=["GET"]),
        *display_routes(Snapshots(SNAPSHOT_PARTS)),
        *page_routes(),
        *(
            Mount(prefix, PageAssets(directory=str(folder)), name=prefix.strip("/"))
            for prefix, folder in ASSET_DIRS.items()
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(metrics.MetricsMiddleware),
            Middleware(
                PageSessionMiddleware,
                api_prefix=API_PREFIX,
                secret_key=secret,
                session_cookie="window_service_session",
                same_site="lax",
                max_age=settings.token_max_age,
                secure=lambda scope: is_https(scope, settings),
            ),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(UnexpectedErrorMiddleware),
        ],
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.core = state
    app.state.notifier = notifier
    app.state.openapi = openapi
    return app
