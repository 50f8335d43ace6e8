"""Declaring an API endpoint: who may call it, what it takes, what it returns.

``ApiRouter.route`` wraps a handler so that it receives an ``ApiRequest`` with the caller
already authenticated and authorised and the JSON body and query already validated. The same
declaration feeds the OpenAPI document, so the document cannot drift from the routes.

A handler names the types it gets: ``api: ApiRequest[Body, Query]`` (``None`` for none, the
default), and they must be the ``body=`` and ``query=`` its route declares (checked when the
route is declared; a route that leaves them out takes them from the annotation). A route's
``scope=`` (see ``scope.py``) is what ``api.own(row)`` holds the rows it loads to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, get_args, get_origin, get_type_hints

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import TypeVar

from ..security import public_base_url
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
    from .scope import Scope

PUBLIC = "public"
MAX_ID = 2**31 - 1
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: What a handler's request carries: its body and its query (None: the route takes none).
B = TypeVar("B", default=None)
Q = TypeVar("Q", default=None)
T = TypeVar("T")


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
    scope: Scope | None = None


@dataclass
class ApiRequest(Generic[B, Q]):
    request: Request
    principal: Principal
    state: AppState
    body: B
    query: Q
    path: dict[str, Any] = field(default_factory=dict)
    scope: Scope | None = None

    def own(self, row: T) -> T:
        """``row`` if it lies in the route's declared scope for the caller (else the scope's
        403). A route that declares no scope has nothing to hold rows to."""
        if self.scope is None:
            raise TypeError("the route declares no scope=")
        self.scope.check(self.principal, row)
        return row

    def base_url(self) -> str:
        """The address citizens' links start with: the configured public URL, or an allowed
        host of this request, never a ``Host`` the client made up (``security.py``)."""
        return public_base_url(self.request, self.state.settings)

    def departments(self) -> frozenset[int] | None:
        """The departments the route's lists are limited to for the caller (None: all)."""
        return self.scope.departments(self.principal) if self.scope is not None else None

    def tx(self, session: Any, hall_id: int, *, actor: Actor | None = None) -> Tx:
        """A transaction on ``session`` for ``hall_id``, acting as the caller (or ``actor``:
        e.g. the staff member whose page session a device's request came with), at the hall
        clock."""
        hub = self.state.hub
        after: AfterCommit = hub.publish_local
        return Tx(session, hall_id, self.state.clock.now(), actor or self.principal.actor, after)


Handler = Callable[[ApiRequest[Any, Any]], Awaitable[Any]]


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
        scope: Scope | None = None,
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            nonlocal body, query
            body, query = _inputs_of(handler, body, query)
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
                scope=scope,
            )
            self.specs.append(spec)
            self.routes.append(Route(path, _wrap(handler, spec), methods=[spec.method]))
            return handler

        return decorate


def _inputs_of(
    handler: Handler, body: type[BaseModel] | None, query: type[BaseModel] | None
) -> tuple[type[BaseModel] | None, type[BaseModel] | None]:
    """The body and query types of ``handler``: as its ``ApiRequest[Body, Query]`` annotation
    says, which must agree with what the route declares."""
    hints = get_type_hints(handler)
    params = [v for k, v in hints.items() if k != "return"]
    if len(params) != 1 or (
        params[0] is not ApiRequest and get_origin(params[0]) is not ApiRequest
    ):
        raise TypeError(f"{handler.__name__} must take one ApiRequest")
    args = get_args(params[0]) or (None, None)
    got = tuple(None if a is type(None) else a for a in args)
    # ``ApiRequest[Any, Any]``: a handler shared by routes that differ in what they take.
    want = tuple(d if g is Any else (d or g) for g, d in zip(got, (body, query), strict=True))
    if got != want and Any not in got:
        raise TypeError(
            f"{handler.__name__}: ApiRequest{list(got)} but the route declares body={body}, "
            f"query={query}"
        )
    return want  # type: ignore[return-value]


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
        context = validation_context(state.clock.now())
        query: BaseModel | None = None
        body: BaseModel | None = None
        if spec.query is not None:
            try:
                query = spec.query.model_validate(dict(request.query_params), context=context)
            except ValidationError as exc:
                raise _invalid(exc, "invalid_query", "查询参数无效 (invalid query)") from exc
        if spec.body is not None:
            data = await _read_json(request, state.settings.max_body_bytes)
            if not isinstance(data, dict):
                raise ApiError(422, "invalid_input", "请求体必须是 JSON 对象 (expected an object)")
            try:
                body = spec.body.model_validate(data, context=context)
            except ValidationError as exc:
                raise _invalid(exc, "invalid_input", "输入无效 (invalid input)") from exc
        path = dict(request.path_params)
        api = ApiRequest(request, principal, state, body, query, path, spec.scope)
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
