"""The window terminal (窗口叫号终端) of the staff member signed in at a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.errors import error_response
from ..auth.principal import Principal
from ..auth.roles import STAFF
from ..halls.lookup import local_time, services_by_id, window_service_ids
from ..halls.models import Hall, Window
from ..queue import rules
from ..queue.models import Ticket
from ..state import app_state
from .pages import N_, current_user, error_page, render, require_page_user


async def window_state(
    session: AsyncSession, user: Principal, now: datetime
) -> dict[str, Any] | None:
    """The window, its services and its called/serving ticket (with the recall count)."""
    if user.window_id is None:
        return None
    window = await session.get(Window, user.window_id)
    if window is None or window.hall_id != user.hall_id:
        return None
    hall = await session.get(Hall, window.hall_id)
    assert hall is not None and hall.id is not None and window.id is not None
    services = await services_by_id(session, hall.id)
    ids = await window_service_ids(session, window.id)
    current = (
        (
            await session.execute(
                select(Ticket)
                .where(
                    Ticket.window_id == window.id,  # type: ignore[arg-type]
                    Ticket.status.in_(rules.AT_WINDOW),  # type: ignore[attr-defined]
                )
                .order_by(Ticket.called_at.desc())  # type: ignore[union-attr]
                .limit(1)
            )
        )
        .scalars()
        .first()
    )
    current_out = None
    if current is not None:
        svc = services[current.service_id]
        current_out = {
            "id": current.id,
            "number": current.number,
            "service": svc.code,
            "service_name": svc.name,
            "status": current.status,
            "status_label": rules.STATUS_LABELS.get(current.status, current.status),
            "priority": current.priority,
            "priority_label": rules.GREEN_PRIORITIES.get(current.priority or "", ""),
            "called_at": local_time(hall, current.called_at).isoformat()
            if current.called_at
            else None,
            "started_at": local_time(hall, current.started_at).isoformat()
            if current.started_at
            else None,
            "recalls": current.recalls,
        }
    return {
        "now": local_time(hall, now).isoformat(),
        "hall": {"code": hall.code, "name": hall.name},
        "window": {
            "id": window.id,
            "number": window.number,
            "name": window.name,
            "status": window.status,
            "services": [
                {
                    "code": services[i].code,
                    "name": services[i].name,
                    "prefix": services[i].prefix,
                    "wait_target_minutes": services[i].wait_target_minutes,
                }
                for i in ids
                if i in services
            ],
        },
        "all_services": [
            {"code": s.code, "name": s.name, "prefix": s.prefix}
            for s in sorted(services.values(), key=lambda s: (s.sort_order, s.prefix))
            if s.active
        ],
        "current": current_out,
        "recall_limit": hall.recall_limit,
        "outcomes": rules.OUTCOMES,
        "priorities": rules.PRIORITIES,
    }


async def terminal_page(request: Request) -> Response:
    user = await require_page_user(request, (STAFF,))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        state = await window_state(session, user, app_state(request).clock.now())
    if state is None:
        return await error_page(
            request, 403, N_("未分配窗口"), N_("该账号没有分配窗口，请联系管理员。")
        )
    return await render(request, "terminal.html", {"state": state})


async def terminal_state(request: Request) -> Response:
    """JSON for the terminal's script: the window and its current ticket (session only)."""
    user = await current_user(request)
    if not user.is_user:
        return error_response(401, "unauthorized", "请先登录 (authentication required)")
    if user.role != STAFF:
        return error_response(403, "forbidden", "仅窗口工作人员可用 (staff only)")
    async with app_state(request).db.read() as session:
        state = await window_state(session, user, app_state(request).clock.now())
    if state is None:
        return error_response(403, "no_window", "该账号没有分配窗口 (no window assigned)")
    return JSONResponse(state, headers={"Cache-Control": "no-store"})
