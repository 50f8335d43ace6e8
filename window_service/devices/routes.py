"""The evaluator pad's endpoint: which ticket did this window just finish?"""

from __future__ import annotations

from ..accountability import config
from ..api.endpoint import ApiRequest, ApiRouter
from ..auth.models import User
from ..auth.photos import photo_url
from ..auth.roles import EVALUATOR, STAFF
from ..halls.lookup import business_day, get_window, local_time
from ..halls.models import Hall, Service, WindowDuty
from ..halls.scopes import WINDOW
from ..queue import queries
from ..queue.views import ticket_out, track_link_base
from .schemas import LastFinishedOut, StaffOut

router = ApiRouter("devices")


@router.route(
    "GET",
    "/windows/{id:int}/last-finished",
    roles=[EVALUATOR, STAFF],
    response=LastFinishedOut,
    scope=WINDOW.at("window", not_your_window="只能查看本窗口 (not this device's window)"),
)
async def last_finished(api: ApiRequest) -> LastFinishedOut:
    """The window's last finished ticket today, with its rating link (评价器显示).

    Allowed to the evaluator pad bound to this window and to the window's own staff member;
    only the pad gets the ticket's rating link (``track_token``/``track_url``). ``ticket`` is
    null when the window has finished no ticket today.
    """
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and hall.id is not None
        settings, _ = await config.current(session, hall.id)
        assert window.id is not None
        ticket = await queries.last_finished(session, window.id, business_day(hall, now))
        duty = await session.get(WindowDuty, window.id)
        on_duty = await session.get(User, duty.staff_id) if duty is not None else None
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
