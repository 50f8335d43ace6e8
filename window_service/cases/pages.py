"""Pages of cases: the printable receipt (受理回执) and correction notice (补正告知书), the public
lookup (/lookup) and the office's live dashboard (/office/cases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.dates import ascii_int
from ..api.errors import ApiError
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..devices import qr
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..security import public_base_url
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from . import deadlines as dl
from . import queries
from .access import check_case_access, look_up, principal_hall
from .calendar import load_calendar
from .calendar_admin import calendar_status
from .commitments import TicketTimes, times_for
from .commitments import counts as commitment_counts
from .figures import compliance_by
from .models import Case
from .responsibility import NO_OUTCOME_REASONS, first_responder_figures
from .schemas import CaseDetailOut
from .service import get_case
from .views import case_detail, case_out, lookups, notice_counts, public_out, year_out
from .watch import policy_of

OFFICE = (ADMIN, INSPECTOR, HEAD)

OFFICE_LINKS.append(
    OfficeLink(
        "/office/calendar",
        N_("工作日历"),
        roles=OFFICE,
        description=N_("法定节假日与调休安排；录入新年度后重新计算预计期限"),
    )
)
OFFICE_LINKS.append(
    OfficeLink(
        "/office/cases",
        N_("办件时限监督"),
        roles=OFFICE,
        description=N_("黄牌/红牌预警与超期办件、一次性告知违规、等候超时、首问负责情况，实时推送"),
    )
)


def base_url(request: Request) -> str:
    return public_base_url(request, app_state(request).settings)


def lookup_link(request: Request, case: Case) -> str:
    query = urlencode({"receipt_no": case.receipt_no, "check_code": case.check_code})
    return f"{base_url(request).rstrip('/')}/lookup?{query}"


async def _case_for_page(
    request: Request, session: AsyncSession, user: Principal
) -> tuple[Hall, Case] | Response:
    try:
        case = await get_case(session, request.path_params["receipt_no"])
        await check_case_access(session, user, case, act=False)
        hall = await principal_hall(session, user)
    except ApiError as exc:
        if exc.status == 404:
            return await error_page(request, 404, N_("没有这个办件"))
        return await error_page(request, exc.status, N_("无权查看此办件"))
    return hall, case


async def _detail_for_page(
    request: Request, user: Principal
) -> Response | tuple[Hall, Case, CaseDetailOut]:
    """The case of the page's path with its full detail, or the page to show instead."""
    state = app_state(request)
    async with state.db.read() as session:
        found = await _case_for_page(request, session, user)
        if isinstance(found, Response):
            return found
        hall, case = found
        assert hall.id is not None
        cal = await load_calendar(session, hall.id)
        detail = await case_detail(
            session,
            hall,
            case,
            cal,
            state.clock.now(),
            policy_of(state),
            base_url=base_url(request),
        )
    return hall, case, detail


async def case_page(request: Request) -> Response:
    """办件详情: deadlines, notices, history and the first-responder chain, with actions."""
    user = await require_page_user(request, roles=(STAFF, *OFFICE))
    if isinstance(user, Response):
        return user
    found = await _detail_for_page(request, user)
    if isinstance(found, Response):
        return found
    hall, _case, detail = found
    can_act = user.role in (STAFF, HEAD)
    return await render(
        request,
        "case_detail.html",
        {"hall": hall, "case": detail, "can_act": can_act, "can_extend": user.role == HEAD},
    )


async def receipt_page(request: Request) -> Response:
    """受理回执: both deadlines, the check code and a QR for the public lookup; printable."""
    user = await require_page_user(request, roles=(STAFF, *OFFICE))
    if isinstance(user, Response):
        return user
    found = await _detail_for_page(request, user)
    if isinstance(found, Response):
        return found
    hall, case, detail = found
    link = lookup_link(request, case)
    return await render(
        request,
        "case_receipt.html",
        {"hall": hall, "case": detail, "lookup_link": link, "qr_svg": qr.svg(link)},
    )


async def notice_page(request: Request) -> Response:
    """补正告知书 (一次性告知): every missing material; printable."""
    user = await require_page_user(request, roles=(STAFF, *OFFICE))
    if isinstance(user, Response):
        return user
    seq = ascii_int(request.path_params["seq"])
    if seq is None:
        return await error_page(request, 404, N_("没有这份补正告知书"))
    found = await _detail_for_page(request, user)
    if isinstance(found, Response):
        return found
    hall, case, detail = found
    notice = next((n for n in detail.notices if n.seq == seq), None)
    if notice is None:
        return await error_page(request, 404, N_("没有这份补正告知书"))
    link = lookup_link(request, case)
    return await render(
        request,
        "case_notice.html",
        {
            "hall": hall,
            "case": detail,
            "notice": notice,
            "lookup_link": link,
            "qr_svg": qr.svg(link),
        },
    )


async def lookup_page(request: Request) -> Response:
    """办件查询 (public): a form; with both fields filled, the case's status and deadlines."""
    state = app_state(request)
    receipt_no = (request.query_params.get("receipt_no") or "").strip()[:64]
    check_code = (request.query_params.get("check_code") or "").strip()[:16]
    result = None
    message = None
    status = 200
    if receipt_no or check_code:
        now = state.clock.now()
        async with state.db.read() as session:
            try:
                case = await look_up(state.db, session, receipt_no, check_code, now)
            except ApiError as refused:
                status = refused.status
                message = (
                    N_("查询次数过多，请稍后再试")
                    if status == 429
                    else N_("受理编号或查询码不正确")
                )
            else:
                hall = await session.get(Hall, case.hall_id)
                assert hall is not None and hall.id is not None
                cal = await load_calendar(session, hall.id)
                lk = await lookups(session, hall, [case])
                result = public_out(hall, case, lk, cal, now)
    return await render(
        request,
        "case_lookup.html",
        {
            "receipt_no": receipt_no,
            "check_code": check_code,
            "result": result,
            "message": message,
        },
        status=status,
    )


@dataclass(frozen=True)
class LiveBreach:
    """A ticket over its wait or service-time target right now (for the hall monitor)."""

    ticket: str
    service: str
    status: str
    minutes: int
    target: int


def live_breach(times: TicketTimes, service: Service) -> LiveBreach:
    waiting = times.ticket.status == "waiting"
    return LiveBreach(
        times.ticket.number,
        service.name,
        times.ticket.status,
        int(times.waited_minutes if waiting else times.served_minutes or 0),
        service.wait_target_minutes if waiting else service.service_target_minutes,
    )


async def calendar_page(request: Request) -> Response:
    """工作日历: known and missing years; the administrator enters a year here."""
    user = await require_page_user(request, roles=OFFICE)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    now = state.clock.now()
    async with state.db.read() as session:
        hall = await principal_hall(session, user)
        status = await calendar_status(session, hall, now)
        asked = request.query_params.get("year", "")
        year = ascii_int(asked)
        if year is not None and not 2000 <= year <= 2200:
            year = None
        if year is None:
            year = status.missing_years[0] if status.missing_years else business_day(hall, now).year
        shown = await year_out(session, hall, year)
    return await render(
        request, "office_calendar.html", {"status": status, "year": year, "shown": shown}
    )


async def dashboard_context(request: Request, user: Principal) -> dict[str, Any]:
    state = app_state(request)
    now: datetime = state.clock.now()
    scope = user.department_ids if user.role == HEAD else None
    async with state.db.read() as session:
        hall = await principal_hall(session, user)
        assert hall.id is not None
        today = business_day(hall, now)
        month_start = today.replace(day=1)
        cal = await load_calendar(session, hall.id)
        policy = policy_of(state)
        open_cases = await queries.open_cases(session, hall.id, scope)
        lk = await lookups(session, hall, open_cases)
        counts = await notice_counts(session, open_cases)
        outs = [
            case_out(
                hall,
                c,
                lk,
                cal,
                now,
                policy,
                notices=counts.get(c.id or 0, (0, 0))[0],
                breaches=counts.get(c.id or 0, (0, 0))[1],
            )
            for c in open_cases
        ]
        red = [o for o in outs if o.warning == dl.RED]
        yellow = [o for o in outs if o.warning == dl.YELLOW]
        stopped = [o for o in outs if o.clock_stopped]
        calendar = await calendar_status(session, hall, now)
        commitments = await commitment_counts(session, hall, today, today, now)
        services = lk.services
        live_breaches = sorted(
            (
                live_breach(t, services[t.ticket.original_service_id])
                for t in await times_for(session, hall, today, today, now)
                if (t.ticket.status == "waiting" and t.wait_breach)
                or (t.ticket.status == "serving" and t.service_breach)
                if scope is None or services[t.ticket.original_service_id].department_id in scope
            ),
            key=lambda b: -b.minutes,
        )
        if scope is not None:
            allowed = {s.code for s in lk.services.values() if s.department_id in scope}
            commitments = [r for r in commitments if r.service in allowed]
        figures = await compliance_by(
            session, hall.id, month_start, today, now=now, department_ids=scope
        )
        responders = await first_responder_figures(
            session, hall, month_start, today, today, department_ids=scope
        )
    return {
        "hall": hall,
        "today": today,
        "month_start": month_start,
        "red": red,
        "yellow": yellow,
        "stopped": stopped,
        "open_count": len(outs),
        "calendar": calendar,
        "commitments": commitments,
        "live_breaches": live_breaches,
        "by_window": sorted(figures["window"].values(), key=lambda f: str(f.key).zfill(4)),
        "by_staff": sorted(figures["staff"].values(), key=lambda f: str(f.key)),
        "by_department": sorted(figures["department"].values(), key=lambda f: str(f.key)),
        "by_service": sorted(figures["service"].values(), key=lambda f: str(f.key)),
        "responders": list(responders.values()),
        "reasons": NO_OUTCOME_REASONS,
    }


async def office_cases_page(request: Request) -> Response:
    """办件时限监督: warned and overdue cases, breaches, queue commitments; live."""
    user = await require_page_user(request, roles=OFFICE)
    if isinstance(user, Response):
        return user
    context = await dashboard_context(request, user)
    if request.query_params.get("partial") == "1":
        return await render(request, "office_cases_body.html", context)
    return await render(request, "office_cases.html", context)


routes = [
    Route("/cases/{receipt_no}", case_page, methods=["GET"]),
    Route("/cases/{receipt_no}/receipt", receipt_page, methods=["GET"]),
    Route("/cases/{receipt_no}/notices/{seq}", notice_page, methods=["GET"]),
    Route("/lookup", lookup_page, methods=["GET"]),
    Route("/office/cases", office_cases_page, methods=["GET"]),
    Route("/office/calendar", calendar_page, methods=["GET"]),
]
