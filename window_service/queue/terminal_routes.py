"""What the window terminal reads besides its waiting line: its held tickets (挂起) and where
it may transfer a ticket to (windows and colleagues on duty)."""

from __future__ import annotations

from sqlalchemy import select

from ..api.endpoint import ApiRequest, ApiRouter
from ..auth.models import User
from ..auth.roles import STAFF
from ..halls.lookup import business_day, get_window, services_by_id
from ..halls.models import Hall, WindowDuty
from ..halls.scopes import WINDOW
from . import queries, service
from .hold import held_at_window
from .schemas import TicketOut, TransferTargetsOut, TransferWindowOut
from .views import build_ticket_out

router = ApiRouter("queue-terminal")


@router.route(
    "GET", "/windows/{id:int}/held", roles=[STAFF], response=list[TicketOut], scope=WINDOW
)
async def held(api: ApiRequest) -> list[TicketOut]:
    """The window's held tickets of today (挂起), oldest first, to resume."""
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and hall.id is not None and window.id is not None
        services = await services_by_id(session, hall.id)
        today = business_day(hall, api.state.clock.now())
        return [
            build_ticket_out(
                hall,
                ticket,
                services[ticket.service_id],
                ahead=0,
                estimate=0,
                window_number=window.number,
                base_url=None,
            )
            for ticket in await held_at_window(session, window.id, today)
        ]


@router.route(
    "GET",
    "/windows/{id:int}/transfer-targets",
    roles=[STAFF],
    response=TransferTargetsOut,
    scope=WINDOW,
)
async def transfer_targets(api: ApiRequest) -> TransferTargetsOut:
    """Where this window may transfer a ticket: the hall's other windows (with their services
    and who is on duty) for 转移到窗口/人员."""
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall_id = window.hall_id
        services = await services_by_id(session, hall_id)
        by_window = await service.window_services_codes(session, hall_id)
        colleagues = list(
            (
                await session.execute(
                    select(User).where(
                        User.hall_id == hall_id,  # type: ignore[arg-type]
                        User.role == STAFF,  # type: ignore[arg-type]
                        User.active.is_(True),  # type: ignore[attr-defined]
                    )
                )
            ).scalars()
        )
        duty: dict[int | None, int] = {
            staff_id: window_id
            for staff_id, window_id in await session.execute(
                select(WindowDuty.staff_id, WindowDuty.window_id)  # type: ignore[call-overload]
            )
        }
        # where each colleague is on duty (在岗), else the window they are assigned to
        on_duty: dict[int, User] = {}
        for user in colleagues:
            at = duty.get(user.id, user.window_id)
            if at is not None and (at not in on_duty or user.id in duty):
                on_duty[at] = user
        out = []
        for other in await queries.windows(session, hall_id):
            if other.id == window.id or other.status == "closed":
                continue
            assert other.id is not None
            staff = on_duty.get(other.id)
            out.append(
                TransferWindowOut(
                    number=other.number,
                    name=other.name,
                    status=other.status,
                    services=[services[s].code for s in by_window.get(other.id, [])],
                    staff=staff.username if staff is not None else None,
                    staff_name=(staff.display_name or staff.username) if staff else None,
                )
            )
        return TransferTargetsOut(windows=out)
