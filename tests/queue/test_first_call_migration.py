"""Migration 0021 fills in each ticket's first call (首次叫号) from its events."""

from __future__ import annotations

import asyncio

import httpx
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.client import issue, login
from tests.support.dbs import AUDIT_KEY
from window_service.migrate import alembic_config, upgrade
from window_service.queue.models import Ticket


async def first_calls(db_url: str) -> dict[str, object]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Ticket.number, Ticket.first_called_at))  # type: ignore[call-overload]
            return {number: at for number, at in rows}
    finally:
        await engine.dispose()


async def test_a_database_of_the_release_before_gets_its_first_calls(
    client: httpx.AsyncClient, db_url: str
) -> None:
    first = await issue(client, "hukou")
    await issue(client, "hukou")
    w1 = await login(client, "w1")
    called = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert called.json()["number"] == first["number"]
    assert (
        await client.post(f"/api/v1/tickets/{first['id']}/return", headers=w1)
    ).status_code == 200
    assert (await client.post("/api/v1/windows/1/call-next", headers=w1)).status_code == 200
    written = await first_calls(db_url)
    assert written[first["number"]] is not None and written["A002"] is None

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0020")
    await asyncio.to_thread(upgrade, db_url, audit_key=AUDIT_KEY.encode())
    assert await first_calls(db_url) == written
