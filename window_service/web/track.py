"""The citizen's tracking page ``/t/{token}`` (扫码查看排队进度), opened from the ticket's QR."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from ..halls.models import Hall, Service, Window, WindowService
from ..queue import rules
from ..queue.models import Ticket
from ..state import app_state
from .pages import N_, error_page, gettext_for, render


def no_show_rule(hall: Hall, gettext: Callable[[str], str]) -> str:
    """What happens to a citizen who misses their call: one text for the printed ticket, the
    kiosk and the phone, from the hall's own recall limit (a missed ticket is final: 过号)."""
    if hall.recall_limit > 0:
        return gettext("叫号未到最多重呼%(n)s次，过号后请重新取号") % {"n": hall.recall_limit}
    return gettext("过号后请重新取号")


def plausible_token(token: str) -> bool:
    return 8 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()


async def track_page(request: Request) -> Response:
    token = request.path_params["token"]
    ticket = None
    async with app_state(request).db.read() as session:
        if plausible_token(token):
            ticket = (
                await session.execute(select(Ticket).where(Ticket.track_token == token))  # type: ignore[arg-type]
            ).scalar_one_or_none()
        if ticket is None:
            return await error_page(
                request, 404, N_("没有这个号票"), N_("请核对号票上的二维码，或向大厅工作人员咨询。")
            )
        hall = await session.get(Hall, ticket.hall_id)
        service = await session.get(Service, ticket.service_id)
        assert hall is not None and service is not None
        windows = (
            await session.execute(
                select(Window.number, Window.zone, WindowService.service_id)  # type: ignore[call-overload]
                .outerjoin(
                    WindowService,
                    (WindowService.window_id == Window.id)
                    & (WindowService.service_id == service.id),
                )
                .where(Window.hall_id == hall.id)
                .order_by(Window.number)
            )
        ).all()
    response = await render(
        request,
        "track.html",
        {
            "token": token,
            "hall": hall,
            "ticket": ticket,
            "service": service,
            "status_label": rules.STATUS_LABELS.get(ticket.status, ticket.status),
            "no_show_rule": no_show_rule(hall, gettext_for(request)),
            # where to go: every window's zone, and the windows that serve this ticket's service
            "zones": {str(number): zone for number, zone, _ in windows},
            "serving_windows": [number for number, _, serves in windows if serves is not None],
        },
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
