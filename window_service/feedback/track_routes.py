"""The citizen's ticket on their phone (扫码查看排队进度): the queue's answer and whether the
ticket can be rated, composed here, above both, so that the queue asks nothing of feedback.

Its router keeps the tag ``queue``: the OpenAPI document lists the tracked ticket with the queue,
as it always has."""

from __future__ import annotations

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..queue import queries
from ..queue.outlook import OUTLOOKS
from ..queue.views import ticket_out, track_link_base
from .policy import can_rate
from .schemas import TrackedTicketOut

router = ApiRouter("queue")


@router.route("GET", "/track/{token}", roles=[PUBLIC], response=TrackedTicketOut)
async def track(api: ApiRequest) -> TrackedTicketOut:
    """The ticket as the citizen sees it on their phone (扫码查看排队进度)."""
    token = api.path["token"]
    async with api.state.db.read() as session:
        ticket = await queries.ticket_by_token(session, token)
        hall = await session.get(Hall, ticket.hall_id)
        svc = await session.get(Service, ticket.service_id)
        assert hall is not None and svc is not None
        today = business_day(hall, api.state.clock.now())
        outlook = await OUTLOOKS.get(api.state.db, session, ticket.hall_id, today)
        out = await ticket_out(
            session, hall, ticket, svc, base_url=track_link_base(api), outlook=outlook
        )
        rateable = await can_rate(session, hall, ticket, api.state.clock.now())
        return TrackedTicketOut(
            **out.model_dump(), hall=hall.code, hall_name=hall.name, can_rate=rateable
        )
