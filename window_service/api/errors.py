"""Errors in the contract's shape: ``{"error": {"code": "snake_case", "message": "…"}}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("window_service")

_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(Exception):
    """Raised anywhere below a handler; becomes the contract's error body."""

    def __init__(self, status: int, code: str, message: str, *, details: Any | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def not_found(what: str, message: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def invalid(code: str, message: str, details: Any | None = None) -> ApiError:
    return ApiError(422, code, message, details=details)


def forbidden(message: str = "无权执行此操作 (not allowed for this role)") -> ApiError:
    return ApiError(403, "forbidden", message)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=sent or None)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _DEFAULT_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404:
        message = "未找到 (not found)"
    elif exc.status_code == 405:
        message = "不支持的请求方法 (method not allowed)"
        response = error_response(exc.status_code, code, message)
        # Every method the path answers, not only those of the first route that matched it.
        # The scope as the application got it (mounts have already narrowed this one).
        scope = dict(request.scope)
        scope.update(root_path=scope.get("app_root_path", scope.get("root_path", "")))
        methods = allowed_methods(request.app.routes, scope)
        response.headers["Allow"] = ", ".join(sorted(methods)) or (exc.headers or {}).get(
            "Allow", ""
        )
        return response
    return error_response(exc.status_code, code, message, headers=exc.headers)


def allowed_methods(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> set[str]:
    """The methods of every route (inside mounts too) whose path matches ``scope``'s."""
    methods: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            methods |= allowed_methods(route.routes, {**scope, **child})
        elif isinstance(route, Route) and route.methods:
            methods |= route.methods
    return methods


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误 (internal error)")


class UnexpectedErrorMiddleware:
    """Answers an exception no handler took with the contract's 500 body, and ends there.

    Starlette's outermost error middleware sends its 500 and then re-raises, and uvicorn
    closes the connection of a request whose application raised: the next request a client
    sends on that keep-alive connection is reset. Here the exception is logged and answered,
    and the connection stays usable. A response already under way cannot be replaced; then
    the exception goes on to the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            response = await server_error_handler(request, exc)
            await response(scope, receive, send)
