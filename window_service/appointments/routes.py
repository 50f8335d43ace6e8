"""HTTP endpoints of appointments (预约): thin wrappers around ``appointments.service``; remote
tickets (网上取号) are in remote_routes.py; tickets are issued by the queue's own issuing code."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, conflict
from ..api.scope import HALL
from ..auth.roles import ADMIN, HEAD, INSPECTOR, KIOSK, STAFF
from ..auth.service import client_address
from ..cases.calendar import load_calendar
from ..halls.lookup import (
    business_day,
    get_hall,
    get_service,
    get_window,
    local_time,
    own_hall,
    window_service_ids,
)
from ..halls.models import Hall, Service
from ..halls.scopes import WINDOW
from ..notify import contacts
from ..queue.issuing import issue_queue
from ..queue.models import Ticket
from ..queue.schemas import TicketCreate, TicketOut
from ..queue.views import ticket_out
from . import citizens, queries, service, settings, slots
from .figures import day_figures
from .models import Appointment
from .schemas import (
    AppointmentChange,
    AppointmentCreate,
    AppointmentOut,
    AppointmentStatsOut,
    PolicyIn,
    PolicyOut,
    ServiceSettingsIn,
    ServiceSettingsOut,
    SlotOut,
    SlotsQuery,
    UpcomingOut,
    parse_hhmm,
)
from .views import appointment_out, citizen_of, policy_out

router = ApiRouter("appointments")
OFFICE = (ADMIN, INSPECTOR, HEAD)


@router.route(
    "GET",
    "/halls/{hall}/services/{code}/slots",
    roles=[PUBLIC],
    response=list[SlotOut],
)
async def list_slots(api: ApiRequest[None, SlotsQuery]) -> list[SlotOut]:
    """预约时段: the service's slots of a day with their free seats (none on closed days)."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        svc = await get_service(session, hall.id, api.path["code"])
        calendar = await load_calendar(session, hall.id)
        day_slots = await slots.slots_for(
            session, hall, svc, api.query.date, api.state.clock.now(), calendar
        )
    return [
        SlotOut(
            start=s.start.strftime("%H:%M"),
            end=s.end.strftime("%H:%M"),
            capacity=s.capacity,
            available=s.available,
        )
        for s in day_slots
    ]


async def _book(
    api: ApiRequest[Any, Any],
    hall_code: str,
    service_code: str,
    day: date,
    start: str,
    citizen: citizens.Citizen | None,
    replacing_token: str | None = None,
    phone: str | None = None,
) -> AppointmentOut:
    try:
        async with api.state.db.write() as session:
            hall = await get_hall(session, hall_code)
            assert hall.id is not None
            svc = await get_service(session, hall.id, service_code)
            calendar = await load_calendar(session, hall.id)
            tx = api.tx(session, hall.id)
            replacing = None
            if replacing_token is not None:
                replacing = await service.by_token(session, replacing_token, lock=True)
                citizen = citizens.Citizen(
                    replacing.name,
                    replacing.phone_digest,
                    replacing.phone_masked,
                    client_address(api.request),
                )
            assert citizen is not None
            appointment = await service.book(
                tx, hall, svc, day, parse_hhmm(start), citizen, calendar, replacing=replacing
            )
            await _keep_number(api, session, hall, appointment, phone, replacing)
            await tx.commit()
    except IntegrityError as exc:  # a racing booking of the same phone, service and day
        raise conflict(
            "already_booked",
            "该手机号当天已预约此事项 (this phone already has a booking for the service that day)",
        ) from exc
    return appointment_out(api, hall, svc, appointment, owner=True)


async def _keep_number(
    api: ApiRequest[Any, Any],
    session: AsyncSession,
    hall: Hall,
    appointment: Appointment,
    phone: str | None,
    replacing: Appointment | None,
) -> None:
    """With an SMS/WeChat gateway configured, the number is kept for the booking's alerts
    (until its day ends; notify/contacts.py); without one, nothing beyond digest and mask."""
    if not api.state.settings.notify_url:
        return
    assert hall.id is not None and appointment.id is not None
    if replacing is not None:
        assert replacing.id is not None
        await contacts.move(session, replacing.id, appointment.id, appointment.day)
    elif phone is not None:
        await contacts.keep(
            session,
            hall.id,
            appointment.day,
            phone,
            api.state.clock.now(),
            appointment_id=appointment.id,
        )


@router.route(
    "POST",
    "/halls/{hall}/appointments",
    roles=[PUBLIC],
    response=AppointmentOut,
    status=201,
    extra_statuses=(409, 429),
)
async def book(api: ApiRequest[AppointmentCreate]) -> AppointmentOut:
    """预约: book a seat of a slot with name and phone (one per phone, service and day)."""
    body = api.body
    citizen = citizen_of(api, citizens.clean_name(body.name), body.phone)
    return await _book(
        api,
        api.path["hall"],
        body.service,
        body.date,
        body.start,
        citizen,
        phone=citizens.normalize_phone(body.phone),
    )


async def _owned(api: ApiRequest[Any, Any]) -> tuple[Hall, Service, Appointment, str | None]:
    async with api.state.db.read() as session:
        appointment = await service.by_token(session, api.path["token"])
        hall = await session.get(Hall, appointment.hall_id)
        svc = await session.get(Service, appointment.service_id)
        assert hall is not None and svc is not None
        number = None
        if appointment.ticket_id is not None:
            ticket = await session.get(Ticket, appointment.ticket_id)
            number = ticket.number if ticket is not None else None
    return hall, svc, appointment, number


@router.route("GET", "/appointments/{token}", roles=[PUBLIC], response=AppointmentOut)
async def get_appointment(api: ApiRequest) -> AppointmentOut:
    """The booking as its owner sees it (from the confirmation link)."""
    hall, svc, appointment, number = await _owned(api)
    return appointment_out(api, hall, svc, appointment, owner=True, ticket_number=number)


@router.route(
    "POST",
    "/appointments/{token}/cancel",
    roles=[PUBLIC],
    response=AppointmentOut,
    extra_statuses=(409,),
)
async def cancel(api: ApiRequest) -> AppointmentOut:
    """取消预约 from the confirmation link: the seat is released."""
    async with api.state.db.write() as session:
        appointment = await service.by_token(session, api.path["token"], lock=True)
        hall = await session.get(Hall, appointment.hall_id)
        svc = await session.get(Service, appointment.service_id)
        assert hall is not None and hall.id is not None and svc is not None
        tx = api.tx(session, hall.id)
        await service.cancel(tx, appointment, reason="cancelled by the citizen")
        assert appointment.id is not None
        await contacts.erase_for_appointment(session, appointment.id, tx.now)
        await tx.commit()
    return appointment_out(api, hall, svc, appointment, owner=True)


@router.route(
    "POST",
    "/appointments/{token}/change",
    roles=[PUBLIC],
    response=AppointmentOut,
    status=201,
    extra_statuses=(409,),
)
async def change(api: ApiRequest[AppointmentChange]) -> AppointmentOut:
    """改约: move the booking to another slot (a new code; the old booking is cancelled)."""
    hall, svc, _, _ = await _owned(api)
    body = api.body
    return await _book(api, hall.code, svc.code, body.date, body.start, None, api.path["token"])


def _ticket_response(out: TicketOut, created: bool) -> Response:
    return Response(
        out.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )


@router.route(
    "POST",
    "/halls/{hall}/appointments/{code}/check-in",
    roles=[KIOSK],
    response=TicketOut,
    status=201,
    extra_statuses=(200, 409),
    scope=HALL,
)
async def check_in(api: ApiRequest) -> Any:
    """预约签到 at the kiosk: a ticket, called like green channel when on time."""
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        appointment = await service.by_code(session, hall.id, api.path["code"])
        svc = await session.get(Service, appointment.service_id)
        assert svc is not None
        if appointment.ticket_id is not None:  # checked in before: the same ticket
            ticket = await session.get(Ticket, appointment.ticket_id)
            assert ticket is not None
            out = await ticket_out(session, hall, ticket, svc, base_url=api.base_url())
            return _ticket_response(out, False)
        policy = await slots.policy_of(session, hall.id)
        priority = service.check_in_priority(appointment, policy, business_day(hall, now), now)
    # The ticket comes from the kiosk's own issuing path; the key makes a repeated or racing
    # check-in find the same ticket.
    body = TicketCreate.model_construct(
        service=svc.code,
        priority=priority,  # type: ignore[arg-type]  # not a reason the kiosk may send
        idempotency_key=f"appointment-{appointment.id}",
    )
    out, _ = await issue_queue(api.request, api.state).issue(
        hall.code, body, api.principal, api.base_url()
    )
    async with api.state.db.write() as session:
        locked = await service.by_code(session, hall.id, appointment.code, lock=True)
        tx = api.tx(session, hall.id)
        first = locked.ticket_id is None
        await service.mark_checked_in(tx, locked, out.id, priority is not None)
        if first and locked.id is not None:  # the number (if kept) follows the ticket
            await contacts.attach(session, locked.id, out.id, business_day(hall, now))
        await tx.commit()
    return _ticket_response(out, first)


@router.route(
    "GET",
    "/windows/{id:int}/appointments",
    roles=[STAFF, ADMIN],
    response=list[UpcomingOut],
    scope=WINDOW,
)
async def window_appointments(api: ApiRequest) -> list[UpcomingOut]:
    """今日预约: today's bookings for the window's services from the current slot on."""
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and window.id is not None
        ids = await window_service_ids(session, window.id)
        rows = await queries.upcoming(session, ids, business_day(hall, now), now)
        return [
            UpcomingOut(
                code=a.code,
                service=code,
                start=local_time(hall, a.starts_at).strftime("%H:%M"),
                end=local_time(hall, a.ends_at).strftime("%H:%M"),
                status=a.status,
                name=citizens.mask_name(a.name),
                phone=a.phone_masked,
                ticket=number,
            )
            for a, code, number in rows
        ]


class _StatsQuery(SlotsQuery):
    pass


@router.route(
    "GET",
    "/halls/{hall}/appointments/stats",
    roles=list(OFFICE),
    response=AppointmentStatsOut,
    scope=HALL,
)
async def appointment_stats(api: ApiRequest[None, _StatsQuery]) -> AppointmentStatsOut:
    """预约统计: a day's bookings, check-ins, no-shows and waits of booked vs walk-in."""
    day: date = api.query.date
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        figures = await day_figures(session, hall.id, day)
    return AppointmentStatsOut(date=day.isoformat(), **figures)


@router.route(
    "GET", "/halls/{hall}/appointment-policy", roles=[ADMIN], response=PolicyOut, scope=HALL
)
async def get_policy(api: ApiRequest) -> PolicyOut:
    """预约规则 of the hall."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        return policy_out(await slots.policy_of(session, hall.id))


@router.route(
    "PUT", "/halls/{hall}/appointment-policy", roles=[ADMIN], response=PolicyOut, scope=HALL
)
async def put_policy(api: ApiRequest[PolicyIn]) -> PolicyOut:
    """Set the hall's 预约规则 (opening hours, walk-in share, on-time window, 爽约 rule)."""
    body = api.body
    opens, closes = parse_hhmm(body.opens), parse_hhmm(body.closes)
    if closes <= opens:
        raise ApiError(422, "invalid_hours", "结束时间须晚于开始时间 (closes before it opens)")
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        policy = await settings.set_policy(tx, hall.id, body.model_dump(), opens, closes)
        await tx.commit()
    return policy_out(policy)


@router.route(
    "PUT",
    "/halls/{hall}/services/{code}/appointment-settings",
    roles=[ADMIN],
    response=ServiceSettingsOut,
    scope=HALL,
)
async def put_service_settings(api: ApiRequest[ServiceSettingsIn]) -> ServiceSettingsOut:
    """Set a service's slot length and capacity (None: from the windows serving it)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        svc = await get_service(session, hall.id, api.path["code"])
        tx = api.tx(session, hall.id)
        row = await settings.set_service(
            tx, svc, enabled=body.enabled, slot_minutes=body.slot_minutes, capacity=body.capacity
        )
        policy = await slots.policy_of(session, hall.id)
        bookable = await slots.slot_capacity(session, svc, policy, row)
        await tx.commit()
    return ServiceSettingsOut(
        service=svc.code,
        enabled=row.enabled,
        slot_minutes=row.slot_minutes,
        capacity=row.capacity,
        bookable_per_slot=bookable,
    )
