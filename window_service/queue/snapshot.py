"""The queue's part of a display's snapshot: windows, zones, waiting counts and recent calls.

Registered with the hub's snapshots in ``app.py`` (``SNAPSHOT_PARTS``); see
``realtime/snapshot.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.lookup import business_day, services_by_id
from ..halls.models import Hall, Window, WindowService
from ..ledger import HallEvent
from . import rules
from .models import Ticket
from .views import current_by_window

#: Enough that a zone's display (?zone=) of a three-zone hall still fills its recent list.
RECENT_CALLS = 40


async def queue_part(session: AsyncSession, hall: Hall, now: datetime, seq: int) -> dict[str, Any]:
    assert hall.id is not None
    services = await services_by_id(session, hall.id)
    current = await current_by_window(session, hall.id)
    # The prefixes each window serves, so a display pointed at one zone (区域) shows that
    # zone's queues only.
    served: dict[int, list[str]] = {}
    for window_id, service_id in (
        await session.execute(
            select(WindowService.window_id, WindowService.service_id)  # type: ignore[call-overload]
            .join(Window, Window.id == WindowService.window_id)
            .where(Window.hall_id == hall.id)
            .order_by(WindowService.window_id, WindowService.position)
        )
    ).all():
        service = services.get(service_id)
        if service is not None and service.active:
            served.setdefault(window_id, []).append(service.prefix)
    windows = []
    for window in (
        await session.execute(
            select(Window).where(Window.hall_id == hall.id).order_by(Window.number)  # type: ignore[arg-type]
        )
    ).scalars():
        assert window.id is not None
        ticket = current.get(window.id)
        windows.append(
            {
                "number": window.number,
                "name": window.name,
                "zone": window.zone,
                "prefixes": served.get(window.id, []),
                "status": window.status,
                "current": (
                    {
                        "ticket": ticket.number,
                        "service": services[ticket.service_id].code,
                        "status": ticket.status,
                    }
                    if ticket
                    else None
                ),
            }
        )
    waiting = {s.prefix: 0 for s in services.values() if s.active}
    counts = await session.execute(
        select(Ticket.service_id, func.count())
        .where(Ticket.hall_id == hall.id, Ticket.status == rules.WAITING)  # type: ignore[arg-type]
        .group_by(Ticket.service_id)  # type: ignore[arg-type]
    )
    for service_id, count in counts.all():
        waiting[services[service_id].prefix] = int(count)
    today = business_day(hall, now)
    recent = []
    calls = await session.execute(
        select(HallEvent)
        .where(HallEvent.hall_id == hall.id, HallEvent.type == "call", HallEvent.seq <= seq)  # type: ignore[arg-type]
        .order_by(HallEvent.seq.desc())  # type: ignore[attr-defined]
        .limit(RECENT_CALLS)
    )
    for event in calls.scalars():
        if business_day(hall, event.created_at) == today:
            recent.append({"type": "call", "seq": event.seq, **event.payload})
    return {
        "windows": windows,
        "zones": sorted({w["zone"] for w in windows if w["zone"]}),
        "recent_calls": recent,
        "waiting": waiting,
    }
