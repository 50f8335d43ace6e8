"""Shared by the supervision and evaluation tests: an invited supervisor's account
(特邀廉政监督员) of the demo hall."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.support.client import login
from window_service.auth.service import add_user
from window_service.db import utcnow
from window_service.halls.models import Hall
from window_service.transaction import Actor, Tx

SUPERVISOR_PASSWORD = "Lantern-Otter-58"


async def add_supervisor(app: Any, username: str = "jd-li", name: str = "李监督") -> None:
    """A ``supervisor`` account of the demo hall, as ``user add --role supervisor`` makes it."""
    await add_supervisor_to(app.state.core.db, username, name)


async def add_supervisor_to(db: Any, username: str = "jd-li", name: str = "李监督") -> None:
    """The same in the database ``db`` (a served hall's, opened by the test)."""
    async with db.write() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        assert hall.id is not None
        tx = Tx(session, hall.id, utcnow(), Actor("test"))
        await add_user(
            tx,
            hall_id=hall.id,
            username=username,
            role="supervisor",
            password=SUPERVISOR_PASSWORD,
            display_name=name,
        )
        await tx.commit()


async def supervisor(
    app: Any, client: httpx.AsyncClient, username: str = "jd-li"
) -> dict[str, str]:
    """Bearer headers of a new supervisor account of the demo hall."""
    await add_supervisor(app, username)
    return await login(client, username, SUPERVISOR_PASSWORD)
