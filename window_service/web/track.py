"""The citizen's tracking page ``/t/{token}`` (扫码查看排队进度), opened from the ticket's QR."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from ..halls.models import Hall, Service
from ..queue import rules
from ..queue.models import Ticket
from ..state import app_state
from .pages import N_, error_page, render


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
    response = await render(
        request,
        "track.html",
        {
            "token": token,
            "hall": hall,
            "ticket": ticket,
            "service": service,
            "status_label": rules.STATUS_LABELS.get(ticket.status, ticket.status),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
