"""Page routes. Each area appends its pages here (one line each); see ``pages.py``."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..admin import pages as admin_pages
from ..appointments import pages as appointment_pages
from ..cases import pages as cases_pages
from ..openness import pages as openness_pages
from ..ratings import pages as ratings_pages
from ..stats import pages as stats_pages
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
    *stats_pages.routes,  # /office/stats (效能统计)
    *cases_pages.routes,  # receipts, correction notices, /lookup, /office/cases
    *admin_pages.routes,  # /office/admin (大厅配置)
    *ratings_pages.routes,  # /board/{hall}, /office/inspections|rectifications|ratings
    *appointment_pages.routes,  # /book/{hall}, /book/manage/{token}, /remote/{hall} (预约)
    *openness_pages.routes,  # /results/{hall} (办件结果公示), /office/openness
]
