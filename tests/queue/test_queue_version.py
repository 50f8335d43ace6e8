"""The hall's queue version moves with every change of the queue, and only with those.

Issuers keep their waiting counts between batches while the version stays the same
(``queue/waiting.py``). The version is bumped because a queue table was written, not because
the change emitted an event or an audit record, so a kind of queue change written tomorrow,
emitting nothing, still moves it: the two changes below are made the ways new code would make
them, with nothing but the row.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from tests.support.client import issue
from window_service.db import utcnow
from window_service.halls.models import Hall
from window_service.ledger import HallLedger
from window_service.queue.models import Ticket
from window_service.transaction import Actor, Tx


async def _version(app: Any) -> int:
    async with app.state.core.db.read() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        ledger = await session.get(HallLedger, hall.id)
        return ledger.queue_version if ledger is not None else 0


async def _change(app: Any, ticket_id: int, *, core: bool) -> None:
    """Cancel a ticket as a new piece of code might: no event, no audit record."""
    async with app.state.core.db.write() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        tx = Tx(session, ticket.hall_id, utcnow(), Actor.system())
        if core:
            await session.execute(
                update(Ticket).where(Ticket.id == ticket_id).values(status="cancelled")  # type: ignore[arg-type]
            )
        else:
            ticket.status = "cancelled"
        await tx.commit()


async def test_issuing_keeps_the_version_and_any_ticket_change_moves_it(
    app: Any, client: httpx.AsyncClient
) -> None:
    first = await issue(client)
    start = await _version(app)
    second = await issue(client)
    assert await _version(app) == start, "issuing alone keeps the kept counts valid"

    await _change(app, first["id"], core=False)
    assert await _version(app) == start + 1, "an ORM change of a ticket bumps the version"
    await _change(app, second["id"], core=True)
    assert await _version(app) == start + 2, "an UPDATE statement on tickets bumps it too"


async def test_people_ahead_stay_exact_after_a_silent_change(
    app: Any, client: httpx.AsyncClient
) -> None:
    tickets = [await issue(client) for _ in range(3)]
    assert (await issue(client))["ahead"] == 3
    await _change(app, tickets[0]["id"], core=False)
    await _change(app, tickets[1]["id"], core=True)
    assert (await issue(client))["ahead"] == 2, "the kept count of 4 was not trusted"


async def test_a_commit_that_leaves_the_queue_keeps_the_version(
    app: Any, client: httpx.AsyncClient
) -> None:
    await issue(client)
    start = await _version(app)
    async with app.state.core.db.write() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        tx = Tx(session, hall.id, utcnow(), Actor.system())
        tx.emit("notice.test")
        await tx.commit()
    assert await _version(app) == start
