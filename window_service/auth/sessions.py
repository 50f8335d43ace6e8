"""The page session (a signed cookie), left out of API calls that carry no cookie.

Starlette's ``SessionMiddleware`` decodes the cookie before every request and wraps ``send``
to set or clear it afterwards. Kiosks, terminals with bearer tokens and scripts call the API
without cookies, and no API endpoint writes the session (only sign-in and the pages do, for
CSRF): for them the session is simply empty, and the middleware is skipped. A call with a
cookie (a page's script) goes through it as before.

Over HTTPS (``secure(scope)``) the cookie is set ``Secure``: a second Starlette middleware
with ``https_only`` answers those requests (same cookie name and key, so either reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PageSessionMiddleware(SessionMiddleware):
    """Starlette's session middleware, skipped for cookie-less calls under ``api_prefix``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_prefix: str,
        secret_key: str,
        session_cookie: str,
        max_age: int | None,
        same_site: Literal["lax", "strict", "none"],
        secure: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        super().__init__(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
        )
        self.api_prefix = api_prefix.rstrip("/") + "/"
        self.secure = secure
        self.https = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
            https_only=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(self.api_prefix)
            and not any(name == b"cookie" for name, _ in scope["headers"])
        ):
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        if scope["type"] in ("http", "websocket") and self.secure(scope):
            await self.https(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
