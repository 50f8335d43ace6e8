"""Periodic work of every process: expiring tickets of past business days, and more.

Each job is idempotent, so several processes running it at once do no harm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from .appointments.service import halls_with_due_no_shows, mark_no_shows
from .audit.anchors import anchor_job
from .auth.throttle import forget_expired
from .cases.watch import watch_commitments
from .efficiency.watch import propose_warnings
from .feedback.watch import watch_rectifications
from .halls.models import Hall
from .privacy.watch import erase_personal_data
from .queue.service import expire_past_days
from .state import AppState
from .transaction import Actor, Tx

log = logging.getLogger("window_service.housekeeping")

Job = Callable[[AppState], Awaitable[None]]


async def expire_tickets(state: AppState) -> None:
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        while True:
            async with state.db.write() as session:
                tx = Tx(
                    session, hall.id, state.clock.now(), Actor.system(), state.hub.publish_local
                )
                count = await expire_past_days(tx, hall)
                await tx.commit()
            if count == 0:
                break


async def forget_throttles(state: AppState) -> None:
    """Remove sign-in and lookup throttle rows long expired (live lockouts are kept)."""
    await forget_expired(state.db, state.clock.now())


async def mark_missed_appointments(state: AppState) -> None:
    """爽约: appointments not checked in by the end of their slot become no-shows."""
    now = state.clock.now()
    async with state.db.read() as session:
        hall_ids = await halls_with_due_no_shows(session, now)
    for hall_id in hall_ids:
        while True:
            async with state.db.write() as session:
                tx = Tx(session, hall_id, now, Actor.system(), state.hub.publish_local)
                count = await mark_no_shows(tx)
                await tx.commit()
            if count == 0:
                break


JOBS: list[Job] = [
    expire_tickets,
    anchor_job,
    watch_commitments,
    watch_rectifications,
    forget_throttles,
    mark_missed_appointments,
    propose_warnings,
    erase_personal_data,
]


async def run_once(state: AppState) -> None:
    for job in JOBS:
        try:
            await job(state)
        except Exception:
            log.exception("housekeeping job %s failed", job.__name__)


async def run_forever(state: AppState) -> None:
    while True:
        await run_once(state)
        await asyncio.sleep(state.settings.housekeeping_seconds)
