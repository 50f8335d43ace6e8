"""Pages of the hall devices and the public QR code image.

- ``/kiosk/{hall}``                      取号机 (template kiosks/kiosk.html)
- ``/display/{hall}``                    大厅综合屏 (template displays/hall.html)
- ``/display/{hall}/window/{number}``    窗口屏 (template displays/window.html)
- ``/pad/{hall}/{window}``               评价器 (template kiosks/pad.html)
- ``/qr.svg?data=<url>``                 QR of one of this server's ticket/case-lookup links

The pages are plain HTML with the hall (and window) filled in; their scripts and styles are
ES modules under ``/displays`` and ``/kiosks``. The templates come from the app's one Jinja
environment (web/templating.py), under the ``displays/`` and ``kiosks/`` prefixes. Device keys never appear in a page: the
kiosk and the pad keep theirs in the browser's localStorage (see the scripts).

Their texts come from the same catalogue as the web pages (``_()`` in the templates, ``t()``
in the scripts, see window_service/web/static/dom.js): Chinese by default, ``?lang=en`` for English.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..api.errors import ApiError, error_response
from ..devices import qr
from ..halls.lookup import get_hall, hall_zone
from ..halls.models import Hall, Service, Window, WindowService
from ..security import public_base_url
from ..state import app_state
from .assets import ASSET_DIRS
from .pages import N_, js_catalog, page_language, translations
from .track import no_show_rule

#: the device pages' own styles (their scripts are revalidated modules, web/assets.py)
STYLE_DIRS = [ASSET_DIRS["/displays"], ASSET_DIRS["/kiosks"]]

#: Pages may connect to the hall's websocket and to a printer agent on the kiosk itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self' ws: wss: http://127.0.0.1:* http://localhost:*; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _asset_version() -> str:
    """Changes whenever a device style changes (``?v=`` on the stylesheets of kiosks/TVs)."""
    digest = hashlib.sha256()
    for directory in STYLE_DIRS:
        for path in sorted(directory.glob("*.css")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


_VERSION = _asset_version()


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    hall = context.get("hall")
    if hall is not None:
        # minutes east of UTC in the hall's zone now, for the pages' clocks
        offset = app_state(request).clock.now().astimezone(hall_zone(hall)).utcoffset()
        context["tz_offset"] = int(offset.total_seconds() // 60) if offset else 0
    language = page_language(request)
    trans = translations(language)
    html = (
        app_state(request)
        .templates.get_template(template)
        .render(
            v=_VERSION,
            lang=language,
            _=trans.gettext,
            gettext=trans.gettext,
            ngettext=trans.ngettext,
            js_catalog=js_catalog(language),
            **context,
        )
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _not_found(request: Request, message: str) -> HTMLResponse:
    gettext = translations(page_language(request)).gettext
    return _page(
        request,
        "displays/device_error.html",
        404,
        title=gettext("找不到页面"),
        message=gettext(message),
    )


async def _hall(request: Request) -> Hall | None:
    try:
        async with app_state(request).db.read() as session:
            return await get_hall(session, request.path_params["hall"])
    except ApiError:
        return None


async def _window(request: Request, hall: Hall, number: int) -> Window | None:
    async with app_state(request).db.read() as session:
        return (
            await session.execute(
                select(Window).where(Window.hall_id == hall.id, Window.number == number)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()


async def kiosk_page(request: Request) -> Response:
    hall = await _hall(request)
    if hall is None:
        return _not_found(request, N_("没有这个服务大厅"))
    gettext = translations(page_language(request)).gettext
    return _page(
        request,
        "kiosks/kiosk.html",
        hall=hall,
        zones=await _service_zones(request, hall),
        no_show_rule=no_show_rule(hall, gettext),
    )


async def _service_zones(request: Request, hall: Hall) -> dict[str, list[str]]:
    """Service code → the zones (区域) of the windows serving it: where the kiosk sends people."""
    async with app_state(request).db.read() as session:
        rows = await session.execute(
            select(Service.code, Window.zone)  # type: ignore[call-overload]
            .join(WindowService, WindowService.service_id == Service.id)
            .join(Window, Window.id == WindowService.window_id)
            .where(Window.hall_id == hall.id, Window.zone != "")
            .order_by(Window.number)
        )
        zones: dict[str, list[str]] = {}
        for service_id, zone in rows.all():
            if zone not in zones.setdefault(service_id, []):
                zones[service_id].append(zone)
        return zones


async def hall_display_page(request: Request) -> Response:
    """The hall display; ``?zone=一楼A区`` shows that zone's windows and queues only."""
    hall = await _hall(request)
    if hall is None:
        return _not_found(request, N_("没有这个服务大厅"))
    zone = request.query_params.get("zone", "")[:100]
    return _page(request, "displays/hall.html", hall=hall, zone=zone)


async def window_display_page(request: Request) -> Response:
    hall = await _hall(request)
    if hall is None:
        return _not_found(request, N_("没有这个服务大厅"))
    window = await _window(request, hall, request.path_params["number"])
    if window is None:
        return _not_found(request, N_("没有这个窗口"))
    return _page(request, "displays/window.html", hall=hall, window=window)


async def pad_page(request: Request) -> Response:
    hall = await _hall(request)
    if hall is None:
        return _not_found(request, N_("没有这个服务大厅"))
    window = await _window(request, hall, request.path_params["window"])
    if window is None:
        return _not_found(request, N_("没有这个窗口"))
    return _page(request, "kiosks/pad.html", hall=hall, window=window)


async def qr_svg(request: Request) -> Response:
    """``/qr.svg?data=<url>``: public; only this server's own /t/ and lookup links (≤ 512)."""
    data = request.query_params.get("data", "")
    settings = app_state(request).settings
    bases = [public_base_url(request, settings)]
    if not qr.allowed(data, bases):
        return error_response(
            422,
            "invalid_qr_data",
            "只能生成本系统号票或办件查询链接的二维码 (only this server's ticket or lookup links)",
        )
    return Response(
        qr.svg(data),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route("/kiosk/{hall}", kiosk_page, methods=["GET"]),
    Route("/display/{hall}", hall_display_page, methods=["GET"]),
    Route("/display/{hall}/window/{number:int}", window_display_page, methods=["GET"]),
    Route("/pad/{hall}/{window:int}", pad_page, methods=["GET"]),
    Route("/qr.svg", qr_svg, methods=["GET"]),
]
