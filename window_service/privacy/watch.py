"""Housekeeping job: erase personal data whose retention has run out, hall by hall.

Cheap when there is nothing to do (one indexed-range query per table and hall); runs each
round, in batches, so a first run over years of history does not hold the write lock long.
"""

from __future__ import annotations

from sqlalchemy import select

from ..halls.models import Hall
from ..state import AppState
from ..transaction import Actor, Tx
from .service import erase_due


async def erase_personal_data(state: AppState) -> None:
    years = state.settings.personal_data_years
    async with state.db.read() as session:
        hall_ids = list((await session.execute(select(Hall.id))).scalars())
    for hall_id in hall_ids:
        for _ in range(20):  # at most 20 batches a round; the rest next round
            async with state.db.write() as session:
                tx = Tx(
                    session, hall_id, state.clock.now(), Actor.system(), state.hub.publish_local
                )
                count = await erase_due(tx, state.clock.now(), years)
                await tx.commit()
            if count == 0:
                break
