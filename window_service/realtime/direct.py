"""Display sockets write their events straight to the server's ASGI ``send``.

Starlette's middleware wraps ``send`` for a websocket as for an HTTP request (the session
middleware and two exception-handling layers), although none of them does anything with a
websocket message once the socket is accepted. A display socket sends every event of its
hall, so with 1,000 displays those wrappers run 1,000 times per call. This middleware, the
outermost of the application's own, keeps the server's ``send`` in the websocket's scope; the
display socket (``routes._Socket``) sends its events with it and accepts and closes through
Starlette as usual.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

#: The scope key under which a websocket's server-side ``send`` is kept.
SERVER_SEND = "window_service.server_send"


class ServerSendMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)
