"""Sign-in for API clients (bearer tokens)."""

from __future__ import annotations

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..halls.models import Window
from .schemas import TokenOut, TokenRequest, UserOut
from .service import client_address, sign_in

router = ApiRouter("auth")


@router.route(
    "POST",
    "/auth/token",
    roles=[PUBLIC],
    response=TokenOut,
    extra_statuses=(401, 429),
)
async def token(api: ApiRequest[TokenRequest]) -> TokenOut:
    """登录: exchange username and password for a bearer token."""
    body = api.body
    user = await sign_in(
        api.state.db,
        api.state.auth.login_throttle,
        body.username,
        body.password,
        client_address(api.request),
        api.state.clock.now(),
    )
    async with api.state.db.read() as session:
        window = await session.get(Window, user.window_id) if user.window_id else None
    assert user.id is not None
    return TokenOut(
        access_token=api.state.tokens.issue(user.id, user.token_version),
        user=UserOut(
            username=user.username,
            role=user.role,
            display_name=user.display_name,
            window=window.number if window else None,
        ),
    )
