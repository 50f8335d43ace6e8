"""Housekeeping job: propose efficiency warnings (效能告诫) from the current quarter's figures.

Reading a quarter's figures is an office-sized query, so each process does it at most once an
hour per hall (the office can always propose at once from its page). Idempotent: a warning is
proposed once per subject and quarter; a process that loses the race to another skips.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..halls.lookup import business_day
from ..halls.models import Hall
from ..state import AppState
from ..transaction import Actor, Tx
from .service import propose, quarter

EVERY = timedelta(hours=1)
_last_run: dict[int, datetime] = {}


async def propose_warnings(state: AppState) -> None:
    now = state.clock.now()
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        last = _last_run.get(hall.id)
        if last is not None and now - last < EVERY and now >= last:
            continue
        _last_run[hall.id] = now
        day = business_day(hall, now)
        period = quarter(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
        try:
            async with state.db.write() as session:
                tx = Tx(session, hall.id, now, Actor.system(), state.hub.publish_local)
                await propose(tx, hall, period)
                await tx.commit()
        except IntegrityError:
            continue  # another process proposed the same warning first
