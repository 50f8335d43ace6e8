"""The pages of ``web/`` itself: sign-in, the window terminal, tracking, the device front-ends.

Every other area's pages are listed in ``app.PAGE_ROUTES``; see ``pages.py``."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from . import devices, signin, terminal, track

FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"


async def favicon(request: Request) -> Response:
    """The hall's icon (browsers ask every page's host for /favicon.ico)."""
    return FileResponse(
        FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )


routes: list[BaseRoute] = [
    Route("/favicon.ico", favicon, methods=["GET", "HEAD"]),
    Route("/", signin.start_page, methods=["GET"]),
    Route("/login", signin.login_page, methods=["GET"]),
    Route("/login", signin.login_submit, methods=["POST"]),
    Route("/logout", signin.logout, methods=["POST"]),
    Route("/office", signin.office_home, methods=["GET"]),
    Route("/terminal", terminal.terminal_page, methods=["GET"]),
    Route("/terminal/state", terminal.terminal_state, methods=["GET"]),
    Route("/t/{token}", track.track_page, methods=["GET"]),
    *devices.routes,  # kiosk, hall/window displays, evaluator pad, /qr.svg
]
