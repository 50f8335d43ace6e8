"""HTTP endpoints of remote tickets (网上取号): take one by phone, check in at a kiosk or by poster."""

from __future__ import annotations

import hmac
import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, conflict, not_found
from ..api.scope import HALL
from ..auth.roles import KIOSK
from ..halls.lookup import business_day, get_hall, get_service, own_hall
from ..halls.models import Hall, Service
from ..notify import contacts
from ..queue.models import Ticket
from ..queue.schemas import TicketOut
from ..queue.views import ticket_out
from . import citizens, remote
from .schemas import (
    PosterCheckIn,
    RemoteTicketCreate,
    RemoteTicketOut,
)
from .views import citizen_of

router = ApiRouter("appointments")


# -- remote tickets (网上取号) -------------------------------------------------------------


@router.route(
    "POST",
    "/halls/{hall}/remote-tickets",
    roles=[PUBLIC],
    response=RemoteTicketOut,
    status=201,
    extra_statuses=(409, 429),
)
async def take_remote_ticket(api: ApiRequest[RemoteTicketCreate]) -> RemoteTicketOut:
    """网上取号: a number taken on the phone; it keeps its queue time but is not called
    until checked in at the hall (kiosk or the hall's QR poster)."""
    body = api.body
    citizen = citizen_of(api, "", body.phone)
    try:
        async with api.state.db.write() as session:
            hall = await get_hall(session, api.path["hall"])
            assert hall.id is not None
            svc = await get_service(session, hall.id, body.service)
            tx = api.tx(session, hall.id)
            ticket_id = await remote.take(tx, hall, svc, citizen)
            if api.state.settings.notify_url:  # kept for its SMS/WeChat alerts, today only
                await contacts.keep(
                    session,
                    hall.id,
                    business_day(hall, tx.now),
                    citizens.normalize_phone(body.phone),
                    tx.now,
                    ticket_id=ticket_id,
                )
            await tx.commit()
    except IntegrityError as exc:  # the same phone racing itself
        raise conflict(
            "remote_ticket_open",
            "该手机号今天已有未办结的网上取号 (this phone already holds an open remote ticket)",
        ) from exc
    async with api.state.db.read() as session:
        whole = await session.get(Ticket, ticket_id)
        assert whole is not None
        out = await ticket_out(session, hall, whole, svc, base_url=api.base_url())
    return RemoteTicketOut(**out.model_dump())


async def _check_in_remote(api: ApiRequest[Any, Any], hall: Hall, ticket: Ticket) -> Response:
    assert hall.id is not None
    async with api.state.db.write() as session:
        locked = await session.get(Ticket, ticket.id, with_for_update=True)
        assert locked is not None
        svc = await session.get(Service, locked.service_id)
        assert svc is not None
        tx = api.tx(session, hall.id)
        await remote.check_in(tx, locked, svc, by=api.principal.role or "citizen")
        await tx.commit()
    async with api.state.db.read() as session:
        fresh = await session.get(Ticket, locked.id)
        assert fresh is not None
        out = await ticket_out(session, hall, fresh, svc, base_url=api.base_url())
    return Response(out.model_dump_json(), status_code=200, media_type="application/json")


@router.route(
    "POST",
    "/halls/{hall}/remote-tickets/{number}/check-in",
    roles=[KIOSK],
    response=TicketOut,
    extra_statuses=(409,),
    scope=HALL,
)
async def check_in_remote_at_kiosk(api: ApiRequest) -> Any:
    """网上取号签到 at the kiosk by today's ticket number (A012) or its tracking token."""
    key = api.path["number"].strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
        raise not_found("ticket", "没有这个网上取号 (unknown remote ticket)")
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        today = business_day(hall, api.state.clock.now())
        ticket = await remote.by_number(session, hall, key, today)
    if ticket is None:
        raise not_found("ticket", "没有这个网上取号 (unknown remote ticket)")
    return await _check_in_remote(api, hall, ticket)


@router.route(
    "POST",
    "/track/{token}/check-in",
    roles=[PUBLIC],
    response=TicketOut,
    extra_statuses=(409,),
)
async def check_in_remote_by_poster(api: ApiRequest[PosterCheckIn]) -> Any:
    """网上取号签到 from the phone, by scanning the hall's check-in poster (today's code)."""
    token = api.path["token"]
    async with api.state.db.read() as session:
        ticket = None
        if re.fullmatch(r"[A-Za-z0-9_-]{8,64}", token):
            ticket = await remote.by_token(session, token)
        if ticket is None:
            raise not_found("ticket", "没有这个网上取号 (unknown remote ticket)")
        hall = await session.get(Hall, ticket.hall_id)
        assert hall is not None
    secret = api.state.settings.resolved_secret_key()
    today = business_day(hall, api.state.clock.now())
    expected = remote.poster_code(secret, hall, today)
    if ticket.business_day != today or not hmac.compare_digest(expected, api.body.poster):
        raise ApiError(
            422, "invalid_poster", "签到码无效，请扫描大厅今天的签到二维码 (not today's poster)"
        )
    return await _check_in_remote(api, hall, ticket)
