"""What every response and every absolute link must respect, whoever the client claims to be.

- HTML pages carry a Content-Security-Policy (scripts and styles from this server only, no
  inline code, no framing); device pages send their own, wider one (``web/devices.py``).
- Over HTTPS the session cookie is ``Secure`` and responses carry HSTS. A request is HTTPS
  when ``WINDOW_SERVICE_PUBLIC_URL`` starts with ``https://`` or the connection's scheme is
  https: a TLS listener, or ``X-Forwarded-Proto`` from a proxy listed in
  ``WINDOW_SERVICE_TRUSTED_PROXIES`` (``serve`` hands that list to uvicorn; nobody else's
  forwarded headers are believed).
- Absolute links (tickets' tracking QR codes, case receipts) start with the configured public
  URL; without one, with the request's ``Host`` only when it is in
  ``WINDOW_SERVICE_ALLOWED_HOSTS``, otherwise with the address the connection really reached
  (the server's socket), never a name the client made up.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings

#: The policy of the office, terminal, sign-in, lookup and tracking pages.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; media-src 'self'; font-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000"


def is_https(scope: Scope, settings: Settings) -> bool:
    """Whether this request is served over HTTPS (see the module docstring)."""
    if settings.public_url.lower().startswith("https://"):
        return True
    return scope.get("scheme") in ("https", "wss")


class SecurityHeadersMiddleware:
    """Adds the CSP to HTML answers that have none, ``nosniff``, and HSTS over HTTPS."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope, self.settings)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    if "content-security-policy" not in headers:
                        headers["Content-Security-Policy"] = PAGE_CSP
                    if "referrer-policy" not in headers:
                        headers["Referrer-Policy"] = "same-origin"
                if "x-content-type-options" not in headers:
                    headers["X-Content-Type-Options"] = "nosniff"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host_header: str) -> str:
    """The host name of a ``Host`` header value (``[::1]:8000`` → ``::1``), lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _server_base(scope: Scope) -> str:
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    server = scope.get("server")
    root = str(scope.get("app_root_path", scope.get("root_path", ""))).rstrip("/")
    if not server:
        return f"{root}/"
    host, port = server[0], server[1]
    if ":" in str(host):
        host = f"[{host}]"
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    netloc = str(host) if default or port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{root}/"


_BASES: dict[tuple[Any, ...], str] = {}


def public_base_url(conn: HTTPConnection, settings: Settings) -> str:
    """Where this server's absolute links start (see the module docstring)."""
    if settings.public_url:
        return settings.public_url
    scope = conn.scope
    host = conn.headers.get("host", "")
    root = scope.get("app_root_path", scope.get("root_path", ""))
    key = (scope.get("scheme"), host, scope.get("server"), root)
    known = _BASES.get(key)
    if known is None:
        if _host_name(host) in settings.allowed_host_names:
            known = str(conn.base_url)
        else:
            known = _server_base(scope)
        if len(_BASES) > 256:  # a cache: what the keys map to never depends on its size
            _BASES.clear()
        _BASES[key] = known
    return known
