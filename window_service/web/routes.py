"""The pages of ``web/`` itself: sign-in, the window terminal, tracking, the device front-ends.

Every other area's pages are listed in ``app.PAGE_ROUTES``; see ``pages.py``."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from . import devices, signin, terminal, track

routes: list[BaseRoute] = [
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
