"""The evaluator pad's endpoint: which ticket did this window just finish?"""

from __future__ import annotations

from sqlalchemy import select

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import ApiError
from ..auth.models import User
from ..auth.roles import EVALUATOR, STAFF
from ..halls.lookup import business_day, get_window, local_time
from ..halls.models import Hall, Service, WindowDuty
from ..queue import rules
from ..queue.models import Ticket
from ..queue.routes import track_link_base
from ..queue.views import ticket_out
from ..ratings import config
from ..ratings.routes import photo_url
from .schemas import LastFinishedOut, StaffOut

router = ApiRouter("devices")


@router.route(
    "GET",
    "/windows/{id:int}/last-finished",
    roles=[EVALUATOR, STAFF],
    response=LastFinishedOut,
)
async def last_finished(api: ApiRequest) -> LastFinishedOut:
    """The window's last finished ticket today, with its rating link (评价器显示).

    Allowed to the evaluator pad bound to this window and to the window's own staff member;
    only the pad gets the ticket's rating link (``track_token``/``track_url``). ``ticket`` is
    null when the window has finished no ticket today.
    """
    principal = api.principal
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        window = await get_window(session, api.path["id"])
        if principal.window_id != window.id or principal.hall_id != window.hall_id:
            raise ApiError(403, "forbidden", "只能查看本窗口 (not this device's window)")
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and hall.id is not None
        settings, _ = await config.current(session, hall.id)
        duty = await session.get(WindowDuty, window.id)
        on_duty = await session.get(User, duty.staff_id) if duty is not None else None
        ticket = (
            await session.execute(
                select(Ticket)
                .where(
                    Ticket.window_id == window.id,  # type: ignore[arg-type]
                    Ticket.status == rules.DONE,  # type: ignore[arg-type]
                    Ticket.business_day == business_day(hall, now),  # type: ignore[arg-type]
                )
                .order_by(Ticket.finished_at.desc(), Ticket.id.desc())  # type: ignore[union-attr]
                .limit(1)
            )
        ).scalar_one_or_none()
        if ticket is None or ticket.finished_at is None:
            return LastFinishedOut(
                ticket=None,
                window=window.number,
                window_name=window.name,
                staff=None,
                finished_at=None,
                seconds_since_finished=None,
                rating_seconds=settings.pad_rating_seconds,
                on_duty=_staff(on_duty),
            )
        svc = await session.get(Service, ticket.service_id)
        assert svc is not None
        staff = await session.get(User, ticket.staff_id) if ticket.staff_id else None
        out = await ticket_out(
            session,
            hall,
            ticket,
            svc,
            window_number=window.number,
            base_url=track_link_base(api),
        )
        return LastFinishedOut(
            ticket=out,
            window=window.number,
            window_name=window.name,
            staff=_staff(staff),
            finished_at=local_time(hall, ticket.finished_at).isoformat(),
            seconds_since_finished=max(0, int((now - ticket.finished_at).total_seconds())),
            rating_seconds=settings.pad_rating_seconds,
            on_duty=_staff(on_duty),
        )


def _staff(user: User | None) -> StaffOut | None:
    if user is None:
        return None
    return StaffOut(
        username=user.username,
        display_name=user.display_name,
        staff_no=user.staff_no,
        photo_url=photo_url(user.photo),
    )
