"""HTTP endpoints of rectification work orders (整改工单): list, read, verify, fix, call back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import conflict
from ..auth.roles import HEAD
from ..halls.models import Hall
from ..transaction import Tx
from . import queries, service
from .models import Rectification
from .schemas import (
    CallbackIn,
    ContactOut,
    FixIn,
    RectificationOut,
    RectificationQuery,
    VerifyIn,
)
from .scopes import OFFICE, RECTIFICATION
from .views import rectification_out

router = ApiRouter("feedback")


# -- rectifications ----------------------------------------------------------------------------


@router.route(
    "GET",
    "/rectifications",
    roles=OFFICE,
    response=list[RectificationOut],
    scope=RECTIFICATION,
)
async def list_rectifications(
    api: ApiRequest[None, RectificationQuery],
) -> list[RectificationOut]:
    """整改工单: the office sees all of its hall; a department head sees their departments'."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await session.get(Hall, api.principal.hall_id)
        assert hall is not None and hall.id is not None
        rects = await queries.rectifications(session, hall.id, q.status, api.departments())
        now = api.state.clock.now()
        names = await queries.names(session, hall.id)
        out = [await rectification_out(session, hall, r, now, names) for r in rects]
        if q.overdue is not None:
            out = [r for r in out if r.overdue is q.overdue]
        return out


async def _rect_for(
    api: ApiRequest[Any, Any], session: AsyncSession, *, lock: bool
) -> tuple[Hall, Rectification]:
    rect = api.own(await service.load_rectification(session, api.path["id"], lock=lock))
    hall = await session.get(Hall, rect.hall_id)
    assert hall is not None
    return hall, rect


async def _answer(
    api: ApiRequest[Any, Any], session: AsyncSession, hall: Hall, rect: Rectification
) -> RectificationOut:
    assert hall.id is not None
    names = await queries.names(session, hall.id)
    return await rectification_out(session, hall, rect, api.state.clock.now(), names)


@router.route(
    "GET", "/rectifications/{id:int}", roles=OFFICE, response=RectificationOut, scope=RECTIFICATION
)
async def get_rectification(api: ApiRequest) -> RectificationOut:
    """One rectification with its progress."""
    async with api.state.db.read() as session:
        hall, rect = await _rect_for(api, session, lock=False)
        return await _answer(api, session, hall, rect)


@router.route(
    "POST",
    "/rectifications/{id:int}/contact",
    roles=OFFICE,
    response=ContactOut,
    extra_statuses=(409,),
    scope=RECTIFICATION,
)
async def view_contact(api: ApiRequest) -> ContactOut:
    """回访: the phone the citizen left with the rating, for the callback. Every view is in
    the audit record (who, when, which rating), never the number itself; 409 when the
    citizen left none."""
    async with api.state.db.write() as session:
        _hall, rect = await _rect_for(api, session, lock=False)
        contact = await queries.callback_contact(session, rect)
        if not contact:
            raise conflict("no_contact", "群众未留联系电话 (the citizen left no phone)")
        tx = api.tx(session, rect.hall_id)
        tx.audit_raw(
            "feedback.contact_viewed",
            "contact_view",
            f"rectification:{rect.id}",
            after={"rectification": rect.id, "feedback": rect.feedback_id, "purpose": "回访"},
        )
        await tx.commit()
        assert rect.id is not None
        return ContactOut(contact=contact, rectification=rect.id)


async def _step(
    api: ApiRequest[Any, Any], do: Callable[[Tx, Rectification], Awaitable[None]]
) -> RectificationOut:
    """A head's step on a work order of their department: ``do`` it and answer the order."""
    async with api.state.db.write() as session:
        hall, rect = await _rect_for(api, session, lock=True)
        tx = api.tx(session, rect.hall_id)
        await do(tx, rect)
        await tx.commit()
        return await _answer(api, session, hall, rect)


@router.route(
    "POST",
    "/rectifications/{id:int}/verify",
    roles=[HEAD],
    response=RectificationOut,
    extra_statuses=(409,),
    scope=RECTIFICATION,
)
async def verify_rectification(api: ApiRequest[VerifyIn]) -> RectificationOut:
    """核实: record what was found and whether the complaint holds."""
    body = api.body
    return await _step(
        api,
        lambda tx, rect: service.verify(
            tx, rect, finding=body.finding, substantiated=body.substantiated
        ),
    )


@router.route(
    "POST",
    "/rectifications/{id:int}/fix",
    roles=[HEAD],
    response=RectificationOut,
    extra_statuses=(409,),
    scope=RECTIFICATION,
)
async def fix_rectification(api: ApiRequest[FixIn]) -> RectificationOut:
    """整改: record the measures taken."""
    return await _step(api, lambda tx, rect: service.fix(tx, rect, measures=api.body.measures))


@router.route(
    "POST",
    "/rectifications/{id:int}/callback",
    roles=[HEAD],
    response=RectificationOut,
    extra_statuses=(409,),
    scope=RECTIFICATION,
)
async def callback_rectification(api: ApiRequest[CallbackIn]) -> RectificationOut:
    """回访: record the callback and the citizen's view of the fix; closes the work order."""
    body = api.body
    return await _step(
        api,
        lambda tx, rect: service.callback(
            tx, rect, reached=body.reached, citizen_view=body.citizen_view, note=body.note
        ),
    )
