"""CSRF protection for pages that use the session cookie.

A random token lives in the (signed) session; forms carry it as ``csrf_token`` and scripts as the
``X-CSRF-Token`` header. Bearer-token and device-key callers are not cookie-based and need none.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import HTTPConnection

SESSION_KEY = "csrf"
HEADER = "x-csrf-token"


def csrf_token(conn: HTTPConnection) -> str:
    session = conn.session
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_ok(conn: HTTPConnection, supplied: str | None) -> bool:
    expected = conn.session.get(SESSION_KEY)
    if not isinstance(expected, str) or not supplied:
        return False
    return hmac.compare_digest(expected, supplied)
