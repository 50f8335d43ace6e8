"""Sign-in for API clients (bearer tokens)."""

from __future__ import annotations

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..halls.models import Window
from .schemas import TokenOut, TokenRequest, UserOut
from .service import check_credentials

router = ApiRouter("auth")


@router.route("POST", "/auth/token", roles=[PUBLIC], body=TokenRequest, response=TokenOut)
async def token(api: ApiRequest) -> TokenOut:
    """登录: exchange username and password for a bearer token."""
    body: TokenRequest = api.body
    async with api.state.db.read() as session:
        user = await check_credentials(session, body.username, body.password)
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
