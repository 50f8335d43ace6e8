"""Shared by the statistics tests: a hall with a settable clock and a busy morning in it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.client import issue, login
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.clock import FixedClock


@contextlib.asynccontextmanager
async def open_hall(
    db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    """The demo hall on ``db_url`` with its clock standing at 09:00 on 26 November 2026."""
    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as client:
        yield client, clock
    await app.state.core.db.dispose()


async def serve(
    client: httpx.AsyncClient,
    clock: FixedClock,
    window: int,
    wait: float,
    service: float,
    *,
    outcome: str = "completed",
) -> dict[str, Any]:
    staff = await login(client, f"w{window}")
    clock.advance(minutes=wait)
    called = await client.post(f"/api/v1/windows/{window}/call-next", headers=staff)
    assert called.status_code == 200, called.text
    tid = called.json()["id"]
    assert (await client.post(f"/api/v1/tickets/{tid}/start", headers=staff)).status_code == 200
    clock.advance(minutes=service)
    finished = await client.post(
        f"/api/v1/tickets/{tid}/finish", json={"outcome": outcome}, headers=staff
    )
    assert finished.status_code == 200, finished.text
    return finished.json()


async def busy_morning(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """09:00 three citizens for 户籍 (one elderly), one for 企业开办; served with known times."""
    a1 = await issue(client, "hukou")
    await issue(client, "hukou", priority="elderly")
    await issue(client, "hukou")
    await issue(client, "qiye")
    # window 1: the elderly citizen first (green channel) after 10 min, served 6 min
    await serve(client, clock, 1, 10, 6)
    # window 1: A001 after 4 more min (wait 20), served 4 min
    await serve(client, clock, 1, 4, 4)
    # window 1: A003 called after 2 more min and does not come
    w1 = await login(client, "w1")
    clock.advance(minutes=2)
    called = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert called.status_code == 200
    assert (
        await client.post(f"/api/v1/tickets/{called.json()['id']}/no-show", headers=w1)
    ).status_code == 200
    # window 5: C001 after 30 min in total (over the 20 min target), served 10 min
    await serve(client, clock, 5, 0, 10)
    # A001's citizen rates 1 (差评)
    assert a1["number"] == "A001"
    response = await client.post(f"/api/v1/track/{a1['track_token']}/feedback", json={"rating": 1})
    assert response.status_code == 201, response.text
