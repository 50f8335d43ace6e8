"""Declaring an API endpoint: who may call it, what it takes, what it returns.

``ApiRouter.route`` wraps a handler so that it receives an ``ApiRequest`` with the caller
already authenticated and authorised and the JSON body and query already validated. The same
declaration feeds the OpenAPI document, so the document cannot drift from the routes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..transaction import Actor, AfterCommit, Tx
from . import dates
from .csrf import HEADER, csrf_ok
from .dates import ascii_int, validation_context
from .errors import ApiError, validation_details

if TYPE_CHECKING:
    # Named in annotations only: the framework hands the application's state and the
    # caller to handlers without knowing what either holds.
    from ..auth.principal import Principal
    from ..state import AppState

PUBLIC = "public"
MAX_ID = 2**31 - 1
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class EndpointSpec:
    method: str
    path: str
    name: str
    summary: str
    description: str
    roles: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    tag: str
    extra_statuses: tuple[int, ...] = ()
    #: Whether a call signed in by the page session must carry the CSRF token. Only an
    #: endpoint that refuses every page session itself turns it off.
    csrf: bool = True


@dataclass
class ApiRequest:
    request: Request
    principal: Principal
    state: AppState
    body: Any = None
    query: Any = None
    path: dict[str, Any] = field(default_factory=dict)

    def tx(self, session: Any, hall_id: int, *, actor: Actor | None = None) -> Tx:
        """A transaction on ``session`` for ``hall_id``, acting as the caller (or ``actor``:
        e.g. the staff member whose page session a device's request came with), at the hall
        clock."""
        hub = self.state.hub
        after: AfterCommit = hub.publish_local
        return Tx(session, hall_id, self.state.clock.now(), actor or self.principal.actor, after)


Handler = Callable[[ApiRequest], Awaitable[Any]]


def to_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


async def _read_json(request: Request, limit: int) -> Any:
    length = request.headers.get("content-length")
    if length is not None and ((size := ascii_int(length)) is None or size > limit):
        raise ApiError(413, "payload_too_large", f"请求体过大 (at most {limit} bytes)")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, "payload_too_large", f"请求体过大 (at most {limit} bytes)")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid_json", "请求体不是有效的 JSON (malformed JSON body)") from exc


class ApiRouter:
    """Collects the endpoints of one domain (``routes`` for Starlette, ``specs`` for OpenAPI)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []
        self.specs: list[EndpointSpec] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: Sequence[str],
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        summary: str = "",
        extra_statuses: Sequence[int] = (),
        csrf: bool = True,
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            doc = (handler.__doc__ or "").strip()
            spec = EndpointSpec(
                method=method.upper(),
                path=path,
                name=handler.__name__,
                summary=summary or (doc.splitlines()[0] if doc else handler.__name__),
                description=doc,
                roles=tuple(roles),
                body=body,
                query=query,
                response=response,
                status=status,
                tag=self.tag,
                extra_statuses=tuple(extra_statuses),
                csrf=csrf,
            )
            self.specs.append(spec)
            self.routes.append(Route(path, _wrap(handler, spec), methods=[spec.method]))
            return handler

        return decorate


def _invalid(exc: ValidationError, code: str, message: str) -> ApiError:
    """422 for a query or body pydantic refused; a date outside the hall's life names itself."""
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] == dates.CODE:
            code, message = dates.CODE, err["msg"]
            break
    return ApiError(422, code, message, details=validation_details(exc))


def _wrap(handler: Handler, spec: EndpointSpec) -> Callable[[Request], Awaitable[Response]]:
    allowed = frozenset(spec.roles)
    is_public = PUBLIC in allowed

    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.core
        principal = await state.auth.authenticate(request)
        if not is_public:
            if principal.kind == "anonymous":
                raise ApiError(401, "unauthorized", "请先登录 (authentication required)")
            if principal.role not in allowed:
                raise ApiError(403, "forbidden", "无权执行此操作 (not allowed for this role)")
        if spec.csrf and principal.via_session and request.method not in SAFE_METHODS:
            if not csrf_ok(request, request.headers.get(HEADER)):
                raise ApiError(403, "csrf_failed", "页面已过期，请刷新后重试 (CSRF check failed)")
        for value in request.path_params.values():
            # Ids are 32-bit on both databases; a larger one is no row (not a driver error).
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                raise ApiError(404, "not_found", "没有找到 (not found)")
        api = ApiRequest(request, principal, state, path=dict(request.path_params))
        context = validation_context(state.clock.now())
        if spec.query is not None:
            try:
                api.query = spec.query.model_validate(dict(request.query_params), context=context)
            except ValidationError as exc:
                raise _invalid(exc, "invalid_query", "查询参数无效 (invalid query)") from exc
        if spec.body is not None:
            data = await _read_json(request, state.settings.max_body_bytes)
            if not isinstance(data, dict):
                raise ApiError(422, "invalid_input", "请求体必须是 JSON 对象 (expected an object)")
            try:
                api.body = spec.body.model_validate(data, context=context)
            except ValidationError as exc:
                raise _invalid(exc, "invalid_input", "输入无效 (invalid input)") from exc
        result = await handler(api)
        if isinstance(result, Response):
            return result
        if result is None and spec.status == 204:
            return Response(status_code=204)
        return JSONResponse(to_json(result), status_code=spec.status)

    endpoint.__name__ = spec.name
    return endpoint


def json_schema_of(model: Any) -> dict[str, Any]:
    return TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
