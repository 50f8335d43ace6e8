"""Prometheus metrics at ``/metrics`` (prometheus_client).

What is measured, and where:

- ``window_service_tickets_issued_total{hall,prefix}`` and
  ``window_service_calls_total{hall,recall}``: counted from the events a transaction of this
  process has just committed (the hub's ``publish_local`` is wrapped), so a rolled-back
  request counts nothing and nothing is counted twice.
- ``window_service_staff_ratings_refused_total{hall,via}``: ratings refused because staff sent
  them (工作人员代评; ``via`` session or token), counted the same way from the office's
  ``office.staff_rating_refused`` events.
- ``window_service_http_request_duration_seconds{method,route,status}``: a small ASGI
  middleware; ``route`` is the route *template* (``/api/v1/tickets/{id}/finish``), never the
  raw path, so label values stay few.
- ``window_service_ws_clients``: display sockets connected (set on subscribe/unsubscribe).
- ``window_service_queue_waiting{hall,prefix}``, ``window_service_windows{hall,status}``:
  read from the database at scrape time, so every worker reports the same, true figure.

Several workers: ``window-service serve --workers N`` (N > 1) points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory under ``var/`` before the workers start;
prometheus_client then keeps counters and histograms in per-process files and ``/metrics``
(whichever worker answers) adds them up. The socket gauge uses ``livesum`` (each worker
removes its file when it shuts down; a worker killed with -9 leaves its last value until the
next ``serve`` clears the directory). With one worker the ordinary in-process registry is used.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .feedback.service import STAFF_ATTEMPT_EVENT

if TYPE_CHECKING:
    from .realtime.hub import Hub
    from .state import AppState
    from .transaction import Event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

TICKETS_ISSUED = Counter(
    "window_service_tickets_issued",
    "Tickets issued (取号), by hall and ticket prefix",
    ["hall", "prefix"],
)
CALLS = Counter(
    "window_service_calls",
    "Calls announced (叫号), by hall; recall=true for 重呼",
    ["hall", "recall"],
)
STAFF_RATINGS_REFUSED = Counter(
    "window_service_staff_ratings_refused",
    "Ratings refused because staff sent them (工作人员代评), by hall and credential",
    ["hall", "via"],
)
REQUEST_SECONDS = Histogram(
    "window_service_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WS_CLIENTS = Gauge(
    "window_service_ws_clients",
    "Display websocket clients connected",
    multiprocess_mode="livesum",
)

_hall_codes: dict[int, str] = {}


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess(var_dir: Path, workers: int) -> Path | None:
    """Called by ``serve`` before workers start: a fresh metrics directory when N > 1."""
    if workers <= 1:
        return None
    path = (var_dir / "prometheus").resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def worker_exit() -> None:
    """A worker shuts down: its live gauges stop counting."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


# -- counting committed events -------------------------------------------------------------
def count_events(events: Iterable[Event]) -> None:
    """Counts a commit's calls and issued tickets: one increment per label set (an issuing
    batch is many tickets of a few prefixes)."""
    tally: dict[tuple[Any, str, str], int] = {}
    for event in events:
        if event.type == "call":
            key = (
                CALLS,
                _hall_code(event.hall_id),
                "true" if event.payload.get("recall") else "false",
            )
        elif event.type == "queue" and event.payload.get("change") == "issued":
            number = str(event.payload.get("ticket") or "")
            key = (TICKETS_ISSUED, _hall_code(event.hall_id), number.rstrip("0123456789") or "?")
        elif event.type == STAFF_ATTEMPT_EVENT:
            key = (STAFF_RATINGS_REFUSED, _hall_code(event.hall_id), str(event.payload.get("via")))
        else:
            continue
        tally[key] = tally.get(key, 0) + 1
    for (counter, hall, label), n in tally.items():
        _counter_child(counter, hall, label).inc(n)


def _hall_code(hall_id: int) -> str:
    return _hall_codes.get(hall_id, str(hall_id))


@functools.lru_cache(maxsize=4096)
def _counter_child(counter: Any, hall: str, label: str) -> Any:
    """The counter child of one label set (looked up once, not per event)."""
    return counter.labels(hall, label)


def instrument_hub(hub: Hub) -> None:
    """Count committed events and connected sockets without touching the hub's code."""
    publish = hub.publish_local

    def publish_local(events: list[Event]) -> None:
        try:
            count_events(events)
        finally:
            publish(events)

    hub.publish_local = publish_local  # type: ignore[method-assign]

    subscribe = getattr(hub, "subscribe", None)
    unsubscribe = getattr(hub, "unsubscribe", None)
    if subscribe is None or unsubscribe is None:
        return

    async def counted_subscribe(*args: Any, **kwargs: Any) -> Any:
        result = await subscribe(*args, **kwargs)
        WS_CLIENTS.set(hub.client_count())
        return result

    def counted_unsubscribe(*args: Any, **kwargs: Any) -> Any:
        result = unsubscribe(*args, **kwargs)
        WS_CLIENTS.set(hub.client_count())
        return result

    hub.subscribe = counted_subscribe  # type: ignore[method-assign]
    hub.unsubscribe = counted_unsubscribe  # type: ignore[method-assign]


# -- request latency -----------------------------------------------------------------------
def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or path is None:
        return "<unmatched>"
    prefix = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
    return _template(prefix, str(path), type(route).__name__ == "Mount")


@functools.lru_cache(maxsize=1024)
def _template(prefix: str, path: str, mount: bool) -> str:
    template = prefix + path
    if mount:
        template += "/{path}"
    # "{id:int}" → "{id}"
    out, depth, skipping = [], 0, False
    for char in template:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            skipping = False
        elif char == ":" and depth:
            skipping = True
            continue
        if not skipping:
            out.append(char)
    return "".join(out)


class MetricsMiddleware:
    """Times every HTTP request (not websockets); labels it with its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        if not _hall_codes:
            await _load_hall_codes(scope)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if scope.get("path") != "/metrics":
                _request_timer(scope.get("method", ""), route_template(scope), status).observe(
                    time.perf_counter() - start
                )


@functools.lru_cache(maxsize=4096)
def _request_timer(method: str, route: str, status: int) -> Any:
    """The histogram child of one label set (looked up once, not per request)."""
    return REQUEST_SECONDS.labels(method, route, str(status))


async def _load_hall_codes(scope: Scope) -> None:
    from .halls.models import Hall

    core = getattr(getattr(scope.get("app"), "state", None), "core", None)
    if core is None:
        return
    try:
        async with core.db.read() as session:
            for hall in (await session.execute(select(Hall))).scalars():
                if hall.id is not None:
                    _hall_codes[hall.id] = hall.code
    except Exception:  # the request itself will report a broken database
        return


# -- scrape-time figures from the database -------------------------------------------------
class _Snapshot:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def database_figures(state: AppState) -> list[Metric]:
    from .halls.models import Hall, Window
    from .outbox.backlog import metric_families as outbox_figures
    from .queue.models import Ticket

    waiting = GaugeMetricFamily(
        "window_service_queue_waiting",
        "Tickets waiting now (排队人数), by hall and prefix",
        labels=["hall", "prefix"],
    )
    windows = GaugeMetricFamily(
        "window_service_windows", "Windows by status, by hall", labels=["hall", "status"]
    )
    async with state.db.read() as session:
        halls = {h.id: h.code for h in (await session.execute(select(Hall))).scalars()}
        _hall_codes.update({k: v for k, v in halls.items() if k is not None})
        rows = await session.execute(
            select(Ticket.hall_id, Ticket.prefix, func.count())  # type: ignore[call-overload]
            .where(Ticket.status == "waiting")
            .group_by(Ticket.hall_id, Ticket.prefix)
        )
        for hall_id, prefix, count in rows.all():
            waiting.add_metric([halls.get(hall_id, str(hall_id)), prefix], float(count))
        rows = await session.execute(
            select(Window.hall_id, Window.status, func.count()).group_by(  # type: ignore[call-overload]
                Window.hall_id, Window.status
            )
        )
        for hall_id, status, count in rows.all():
            windows.add_metric([halls.get(hall_id, str(hall_id)), status], float(count))
        outbox = await outbox_figures(session, _hall_codes, state.clock.now())
    return [waiting, windows, *outbox]


def _registry() -> CollectorRegistry:
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` in the Prometheus text format."""
    state: AppState = request.app.state.core
    figures = CollectorRegistry(auto_describe=False)
    figures.register(_Snapshot(await database_figures(state)))  # type: ignore[arg-type]
    body = generate_latest(_registry()) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def instrument(state: AppState) -> None:
    """Hook the app's hub (called once by ``create_app``)."""
    instrument_hub(state.hub)
