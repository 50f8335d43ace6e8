"""Honest numbers for citizens: the people ahead and the estimated wait count what really
stands before a ticket (every service its windows also serve, green lanes first), only
windows with staff on duty, at those windows' recent pace; the estimate is recorded.

Demo hall: windows 1–2 hukou (A), 3–4 budongchan (B), 5 qiye, 6 shebao, 7 shuiwu, 8 all five;
every service's default is 8 minutes a ticket. The hall clock is a FixedClock (10:00).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import issue, login
from tests.support.duty import on_duty
from window_service.clock import FixedClock
from window_service.queue import outlook
from window_service.queue.models import Ticket


async def services(c: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in (await c.get("/api/v1/halls/demo/services")).json()}


async def track(c: httpx.AsyncClient, ticket: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = (await c.get(f"/api/v1/track/{ticket['track_token']}")).json()
    return data


async def recorded(app: Any, number: str) -> float | None:
    async with app.state.core.db.read() as session:
        value = (
            await session.execute(
                select(Ticket.estimated_wait_seconds).where(Ticket.number == number)  # type: ignore[call-overload]
            )
        ).scalar_one()
    return None if value is None else float(value)


async def test_nobody_on_duty_gives_no_estimate(hc: httpx.AsyncClient, hall_app: Any) -> None:
    a1 = await issue(hc)
    b1 = await issue(hc, "budongchan")
    a2 = await issue(hc)
    # No "3 分钟" with nobody there to call: the wait is unknown, on the ticket, the phone
    # and the kiosk's list, and nothing is recorded as an estimate.
    assert (a1["estimated_wait_minutes"], a2["estimated_wait_minutes"]) == (None, None)
    # Window 8 will serve both services once staffed: B001 stands before A002.
    assert (a1["ahead"], b1["ahead"], a2["ahead"]) == (0, 1, 2)
    assert (await track(hc, a2))["estimated_wait_minutes"] is None
    listed = await services(hc)
    assert listed["hukou"]["estimated_wait_minutes"] is None
    assert listed["hukou"]["waiting"] == 3 and listed["hukou"]["queue_waiting"] == 2
    assert await recorded(hall_app, "A002") is None


async def test_people_ahead_across_shared_windows(hc: httpx.AsyncClient, hall_app: Any) -> None:
    await on_duty(hall_app, 1)  # window 1 serves hukou only
    for code in ("hukou", "budongchan", "hukou", "budongchan"):
        await issue(hc, code)
    a3 = await issue(hc)
    # Only window 1 would call it: budongchan tickets do not stand before it.
    assert a3["ahead"] == 2
    # 2 tickets at 8 minutes, one window, which is free (no ticket of its own to finish):
    # 2 × 8 / 1 = 16.
    assert a3["estimated_wait_minutes"] == 16
    assert await recorded(hall_app, "A003") == pytest.approx(16 * 60)
    await on_duty(hall_app, 8)  # 综合窗口: serves all five
    a4 = await issue(hc)
    # Now window 8 may call the budongchan tickets first: they stand before A004 too.
    assert a4["ahead"] == 5
    # The three hukou tickets ahead are called by window 1 (all its work is hukou: 1 ticket
    # per 8 minutes) and by window 8, which gives hukou its share of its work ahead (4 × 8 of
    # 4 × 8 + 2 × 8 budongchan: 2/3 of a ticket per 8 minutes): 3 / (5/3 / 8) = 14.4 → 15.
    # Window 1 has no other queue (free of older tickets after 3 × 8 / 2 = 12), so A004 does
    # not wait behind window 8's budongchan tickets; the old pool (24 + 16 + 4.8) / 2 said 23.
    assert a4["estimated_wait_minutes"] == 15
    # on the phone: A001, A002, B001, B002 ahead; 2 / ((1 + 3 × 8 / 40) / 8) = 10
    view = await track(hc, a3)
    assert (view["ahead"], view["estimated_wait_minutes"]) == (4, 10)
    listed = await services(hc)
    assert listed["hukou"]["waiting"] == 6 and listed["hukou"]["queue_waiting"] == 4
    assert listed["qiye"]["waiting"] == 6, "window 8 serves qiye and has all six before it"
    # qiye: window 8 alone calls by queue time, so it first gets through its half of the hukou
    # tickets (window 1 does the other half) and all of budongchan's: 4 × 8 / 2 + 2 × 8 = 32.
    assert listed["qiye"]["estimated_wait_minutes"] == 32


async def test_a_paused_window_does_not_count(hc: httpx.AsyncClient, hall_app: Any) -> None:
    await on_duty(hall_app, 1, 8)
    await issue(hc, "budongchan")
    await issue(hc)
    w8 = await login(hc, "w8")
    r = await hc.post("/api/v1/windows/8/pause", headers=w8)
    assert r.status_code == 200, r.text
    a2 = await issue(hc)
    # Window 8 is paused: only window 1 calls hukou, and B001 is not before A002.
    assert a2["ahead"] == 1 and a2["estimated_wait_minutes"] == 8  # 1 × 8 / 1, window 1 free
    w1 = await login(hc, "w1")
    assert (await hc.post("/api/v1/windows/1/pause", headers=w1)).status_code == 200
    assert (await issue(hc))["estimated_wait_minutes"] is None
    assert (await track(hc, a2))["estimated_wait_minutes"] is None
    assert (await hc.post("/api/v1/windows/8/resume", headers=w8)).status_code == 200
    assert (await track(hc, a2))["ahead"] == 2  # B001 again (window 8 serves it first)


async def test_green_lanes_first_across_services(hc: httpx.AsyncClient, hall_app: Any) -> None:
    await on_duty(hall_app, 1, 8)
    await issue(hc)
    await issue(hc, "budongchan")
    await issue(hc, "budongchan", priority="elderly")
    green = await issue(hc, priority="disabled")
    # Only the green-channel ticket of budongchan (window 8 serves it) is before it.
    assert green["ahead"] == 1
    plain = await issue(hc)
    assert plain["ahead"] == 4
    assert (await track(hc, green))["ahead"] == 1


async def test_recent_service_times_make_the_estimate(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outlook, "TIMES_AFTER_FINISH", 0.0)  # read again at once after a finish
    await on_duty(hall_app, 1)
    w1 = await login(hc, "w1")
    for _ in range(2):
        await issue(hc)
        called = (await hc.post("/api/v1/windows/1/call-next", headers=w1)).json()
        await hc.post(f"/api/v1/tickets/{called['id']}/start", headers=w1)
        clock.advance(minutes=30)  # called → finished: 30 minutes at window 1
        r = await hc.post(
            f"/api/v1/tickets/{called['id']}/finish", json={"outcome": "completed"}, headers=w1
        )
        assert r.status_code == 200, r.text
    await issue(hc)
    a4 = await issue(hc)
    # One ahead at 30 minutes (window 1's recent pace, not the 8-minute default).
    assert a4["ahead"] == 1 and a4["estimated_wait_minutes"] == 30  # 1 × 30 / 1, window 1 free
    # Another service with no history yet runs at the pace the others keep against their
    # defaults (30 / 8): window 8 calls qiye at 8 × 3.75 = 30 minutes a ticket.
    await on_duty(hall_app, 8)
    await issue(hc, "qiye")
    c2 = await issue(hc, "qiye")
    assert c2["ahead"] == 3  # the two hukou and C001: window 8 serves them all
    assert c2["estimated_wait_minutes"] is not None and c2["estimated_wait_minutes"] > 30
