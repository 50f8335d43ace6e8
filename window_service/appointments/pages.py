"""The citizen's phone pages: booking (``/book/{hall}``), the booking's own page with its code,
QR, cancel and change (``/book/manage/{token}``), and remote tickets (``/remote/{hall}``)."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.errors import ApiError
from ..cases.calendar import load_calendar
from ..devices import qr
from ..halls.lookup import business_day, get_hall, local_time
from ..halls.models import Hall, Service
from ..queue.models import Ticket
from ..state import app_state
from ..web.pages import (
    N_,
    OFFICE_LINKS,
    OFFICE_ROLES,
    OfficeLink,
    error_page,
    render,
    require_page_user,
)
from . import citizens, queries, remote, service, slots
from .figures import day_figures

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
#: Days offered on the booking page (the API accepts up to the policy's ``days_ahead``).
DAYS_SHOWN = 14


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _hall_or_404(request: Request) -> Hall | Response:
    try:
        async with app_state(request).db.read() as session:
            return await get_hall(session, request.path_params["hall"])
    except ApiError:
        return await error_page(request, 404, N_("没有这个服务大厅"))


async def _services(request: Request, hall: Hall) -> list[Service]:
    assert hall.id is not None
    async with app_state(request).db.read() as session:
        return await queries.bookable_services(session, hall.id)


async def _days(request: Request, hall: Hall) -> list[dict[str, str]]:
    """The working days a citizen may pick, from today on."""
    state = app_state(request)
    now = state.clock.now()
    assert hall.id is not None
    async with state.db.read() as session:
        calendar = await load_calendar(session, hall.id)
        policy = await slots.policy_of(session, hall.id)
    today = business_day(hall, now)
    out = []
    for n in range(min(policy.days_ahead, 60) + 1):
        day = today + timedelta(days=n)
        if calendar.is_working_day(day):
            label = f"{day.month}月{day.day}日 {WEEKDAYS[day.weekday()]}"
            out.append({"value": day.isoformat(), "label": ("今天 " if n == 0 else "") + label})
        if len(out) >= DAYS_SHOWN:
            break
    return out


async def book_page(request: Request) -> Response:
    hall = await _hall_or_404(request)
    if isinstance(hall, Response):
        return hall
    services = await _services(request, hall)
    days = await _days(request, hall)
    assert hall.id is not None
    async with app_state(request).db.read() as session:
        policy = await slots.policy_of(session, hall.id)
    return _private(
        await render(
            request,
            "appointments/book.html",
            {
                "hall": hall,
                "services": services,
                "days": days,
                "policy": policy,
                "init": {"hall": hall.code, "mode": "book"},
            },
        )
    )


async def manage_page(request: Request) -> Response:
    token = request.path_params["token"]
    state = app_state(request)
    try:
        async with state.db.read() as session:
            appointment = await service.by_token(session, token)
            hall = await session.get(Hall, appointment.hall_id)
            svc = await session.get(Service, appointment.service_id)
            ticket = (
                await session.get(Ticket, appointment.ticket_id) if appointment.ticket_id else None
            )
            policy = await slots.policy_of(session, appointment.hall_id)
    except ApiError:
        return await error_page(request, 404, N_("没有这个预约"), N_("请核对预约确认链接。"))
    assert hall is not None and svc is not None
    days = await _days(request, hall)
    start = local_time(hall, appointment.starts_at)
    end = local_time(hall, appointment.ends_at)
    changeable = appointment.status == service.BOOKED and appointment.starts_at > state.clock.now()
    return _private(
        await render(
            request,
            "appointments/manage.html",
            {
                "hall": hall,
                "service": svc,
                "appointment": appointment,
                "ticket": ticket,
                "status_label": service.STATUS_LABELS.get(appointment.status, ""),
                "day_label": f"{appointment.day.year}年{appointment.day.month}月"
                f"{appointment.day.day}日 {WEEKDAYS[appointment.day.weekday()]}",
                "time_label": f"{start:%H:%M}–{end:%H:%M}",
                "masked_name": citizens.mask_name(appointment.name),
                "qr": qr.svg(appointment.code),
                "changeable": changeable,
                "policy": policy,
                "days": days,
                "init": {
                    "hall": hall.code,
                    "mode": "manage",
                    "token": token,
                    "service": svc.code,
                },
            },
        )
    )


async def remote_page(request: Request) -> Response:
    hall = await _hall_or_404(request)
    if isinstance(hall, Response):
        return hall
    services = await _services(request, hall)
    return _private(
        await render(
            request,
            "appointments/remote.html",
            {"hall": hall, "services": services, "init": {"hall": hall.code, "mode": "remote"}},
        )
    )


async def poster_page(request: Request) -> Response:
    """签到二维码: today's poster for remote tickets, printed or shown in the hall."""
    user = await require_page_user(request, roles=("admin", "staff"))
    if isinstance(user, Response):
        return user
    hall = await _hall_or_404(request)
    if isinstance(hall, Response):
        return hall
    if user.hall_id != hall.id:
        return await error_page(request, 403, N_("无权访问此页面"))
    state = app_state(request)
    today = business_day(hall, state.clock.now())
    code = remote.poster_code(state.settings.resolved_secret_key(), hall, today)
    base = (state.settings.public_url or str(request.base_url)).rstrip("/")
    link = f"{base}/arrive/{hall.code}/{code}"
    return _private(
        await render(
            request,
            "appointments/poster.html",
            {
                "hall": hall,
                "qr": qr.svg(link),
                "day_label": f"{today.year}年{today.month}月{today.day}日",
            },
        )
    )


async def arrive_page(request: Request) -> Response:
    """Opened by scanning the poster: checks in the remote ticket this phone took."""
    hall = await _hall_or_404(request)
    if isinstance(hall, Response):
        return hall
    code = request.path_params["code"]
    return _private(
        await render(
            request,
            "appointments/arrive.html",
            {"hall": hall, "init": {"hall": hall.code, "mode": "arrive", "poster": code[:32]}},
        )
    )


OFFICE_LINKS.append(
    OfficeLink(
        "/office/appointments",
        N_("预约统计"),
        description=N_("预约、签到、爽约与网上取号，预约群众与现场群众的等候时间对比。"),
    )
)


async def office_page(request: Request) -> Response:
    """预约统计 of a day for the office."""
    user = await require_page_user(request, roles=OFFICE_ROLES)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id) if user.hall_id is not None else None
        if hall is None or hall.id is None:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        today = business_day(hall, state.clock.now())
        try:
            day = date.fromisoformat(request.query_params.get("date", "") or today.isoformat())
        except ValueError:
            day = today
        figures = await day_figures(session, hall.id, day)
    return await render(
        request,
        "appointments/office.html",
        {"hall": hall, "day": day.isoformat(), "figures": figures},
    )


OFFICE_LINKS.append(
    OfficeLink(
        "/office/appointments/settings",
        N_("预约设置"),
        roles=("admin",),
        description=N_("预约时间、现场取号保留比例、签到时限、爽约规则，各事项的时段长度与容量。"),
    )
)


async def settings_page(request: Request) -> Response:
    """预约设置 for the hall's administrator (saved through the API by its script)."""
    user = await require_page_user(request, roles=("admin",))
    if isinstance(user, Response):
        return user
    state = app_state(request)
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id) if user.hall_id is not None else None
        if hall is None or hall.id is None:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        policy = await slots.policy_of(session, hall.id)
        rows = []
        for svc in await queries.active_services(session, hall.id):
            cfg = await slots.service_settings(session, svc)
            bookable = await slots.slot_capacity(session, svc, policy, cfg)
            rows.append({"service": svc, "cfg": cfg, "bookable": bookable})
    return await render(
        request,
        "appointments/settings.html",
        {
            "hall": hall,
            "policy": policy,
            "opens": policy.opens.strftime("%H:%M"),
            "closes": policy.closes.strftime("%H:%M"),
            "rows": rows,
            "init": {"hall": hall.code},
        },
    )


routes = [
    Route("/office/appointments/settings", settings_page, methods=["GET"]),
    Route("/office/appointments", office_page, methods=["GET"]),
    Route("/poster/{hall}", poster_page, methods=["GET"]),
    Route("/arrive/{hall}/{code}", arrive_page, methods=["GET"]),
    Route("/book/manage/{token}", manage_page, methods=["GET"]),
    Route("/book/{hall}", book_page, methods=["GET"]),
    Route("/remote/{hall}", remote_page, methods=["GET"]),
]
