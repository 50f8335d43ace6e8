"""Who may see or work on a case, and the public lookup of one (办件查询)."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import ApiError, forbidden, not_found
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..auth.throttle import Throttle
from ..db import Database
from ..halls.lookup import window_service_ids
from ..halls.models import Hall
from .models import Case
from .service import is_receipt_no

#: Public lookups: after this many wrong attempts on one receipt number within the window,
#: further attempts are refused for a while (the same for unknown numbers: nothing leaks).
LOOKUP_MAX_FAILURES = 10
LOOKUP_WINDOW = timedelta(minutes=15)
LOOKUP_NOT_FOUND = "受理编号或查询码不正确 (no case with this receipt number and check code)"


#: Wrong lookups per receipt number, counted in the database (see ``auth/throttle.py``).
lookup_throttle = Throttle("case_lookup", limit=LOOKUP_MAX_FAILURES, window=LOOKUP_WINDOW)


async def principal_hall(session: AsyncSession, principal: Principal) -> Hall:
    hall = await session.get(Hall, principal.hall_id) if principal.hall_id else None
    if hall is None:
        raise forbidden("不属于任何服务大厅 (no hall)")
    return hall


async def check_case_access(
    session: AsyncSession, principal: Principal, case: Case, *, act: bool
) -> None:
    """Who may see (``act=False``) or work on a case: its window staff, its department's head;
    the office (inspector, admin) may look."""
    if principal.hall_id != case.hall_id:
        raise not_found("case", "没有这个办件 (unknown case)")
    role = principal.role
    if role == STAFF:
        if case.accepted_by_id == principal.user_id or (
            principal.window_id is not None and case.window_id == principal.window_id
        ):
            return
        if principal.window_id is not None and case.service_id in await window_service_ids(
            session, principal.window_id
        ):
            return
        raise forbidden("不是本窗口事项的办件 (not a case of your window)")
    if role == HEAD:
        if case.department_id in principal.department_ids:
            return
        raise forbidden("不是本部门的办件 (not a case of your department)")
    if role in (INSPECTOR, ADMIN) and not act:
        return
    raise forbidden()


async def look_up(
    db: Database, session: AsyncSession, receipt_no: str, check_code: str, now: datetime
) -> Case:
    """The case with this receipt number and check code: 429 ``too_many_attempts`` while the
    number is throttled, 404 ``case_not_found`` (counted as a wrong attempt) for no such pair."""
    key = receipt_no.upper()
    if await lookup_throttle.blocked_for(db, key, now):
        raise ApiError(
            429, "too_many_attempts", "查询次数过多，请稍后再试 (too many attempts, try later)"
        )
    case = None
    if is_receipt_no(key) and check_code:
        case = (
            await session.execute(select(Case).where(col(Case.receipt_no) == key))
        ).scalar_one_or_none()
    if case is None or not hmac.compare_digest(case.check_code.encode(), check_code.encode()):
        await lookup_throttle.failed(db, key, now)
        raise ApiError(404, "case_not_found", LOOKUP_NOT_FOUND)
    return case
