"""Housekeeping job: propose efficiency warnings (效能告诫) from the current quarter's figures.

Reading a quarter's figures is an office-sized query: run in the hall's opening hours it took
the cores the windows and displays need (the province bench: with 60 days of history, issue
p99 went from 34 ms to 930 ms while each process read 20 halls' quarters). So it is done
once a night per hall, in the first housekeeping pass between 20:00 and 07:00 hall
time; the proposals are there when the office comes in, and the office can always propose at
once from its page. One process does a hall's night: it claims the night first
(``WarningNight``), and the other processes, finding it claimed, do not read the figures at
all (each of them used to read all 20 halls' quarters too, to find the warnings already
proposed). Idempotent besides: a warning is proposed once per subject and quarter.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..halls.lookup import local_time
from ..halls.models import Hall
from ..state import AppState
from ..transaction import Actor, Tx
from .models import WarningNight
from .service import propose, quarter

log = logging.getLogger("window_service.efficiency")

#: The night, in hall time: from NIGHT_FROM o'clock to NIGHT_UNTIL o'clock the next morning.
NIGHT_FROM, NIGHT_UNTIL = 20, 7
#: The night (the date it began) each hall was last looked at by this process.
_last_run: dict[int, date] = {}


def night_of(hall: Hall, now: datetime) -> date | None:
    """The date the current night began in the hall's time; None in the hall's day."""
    local = local_time(hall, now)
    if NIGHT_UNTIL <= local.hour < NIGHT_FROM:
        return None
    return (local - timedelta(hours=NIGHT_UNTIL)).date()


async def propose_warnings(state: AppState) -> None:
    now = state.clock.now()
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        night = night_of(hall, now)
        if night is None or _last_run.get(hall.id) == night:
            continue
        _last_run[hall.id] = night
        if not await _claim(state, hall.id, night, now):
            continue  # another process has this hall's night
        day = night  # the business day just ended: its quarter (a new year's night: the last)
        period = quarter(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
        try:
            async with state.db.write() as session:
                tx = Tx(session, hall.id, now, Actor.system(), state.hub.publish_local)
                await propose(tx, hall, period)
                await tx.commit()
        except IntegrityError:
            continue  # proposed meanwhile from the office's page
        except Exception:
            # Nothing was proposed: give the night back, so that a later pass tries again.
            _last_run.pop(hall.id, None)
            await _release(state, hall.id, night)
            raise


async def _claim(state: AppState, hall_id: int, night: date, now: datetime) -> bool:
    """Whether this process took the hall's night (False: another process has it)."""
    async with state.db.read() as session:
        if await session.get(WarningNight, (hall_id, night)) is not None:
            return False
    try:
        async with state.db.write() as session:
            session.add(WarningNight(hall_id=hall_id, night=night, claimed_at=now))
            await session.commit()
    except IntegrityError:
        return False
    return True


async def _release(state: AppState, hall_id: int, night: date) -> None:
    try:
        async with state.db.write() as session:
            await session.execute(
                delete(WarningNight).where(
                    WarningNight.hall_id == hall_id,  # type: ignore[arg-type]
                    WarningNight.night == night,  # type: ignore[arg-type]
                )
            )
            await session.commit()
    except Exception:
        log.exception("could not give back the night %s of hall %d", night, hall_id)
