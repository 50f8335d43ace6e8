"""Fair priority (公平叫号): green channel and on-time appointments go first, but at most 3
(the hall's limit) in a row at a window while an ordinary ticket it could call has waited
longer than its service's wait target; the waits of remote tickets count from check-in."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import KIOSK, issue, login
from tests.support.queue import API, call, post, step
from window_service.cases.commitments import counts
from window_service.clock import FixedClock
from window_service.halls.lookup import business_day
from window_service.halls.models import Hall


async def calls(c: httpx.AsyncClient, window: int, staff: dict[str, str], n: int) -> list[str]:
    """The next ``n`` calls at the window as G (green) or O (ordinary), each marked no-show."""
    order = []
    for _ in range(n):
        ticket = await call(c, window, staff)
        order.append("G" if ticket["priority"] else "O")
        await step(c, ticket["id"], "no-show", staff)
    return order


async def test_a_stream_of_green_tickets_lets_overdue_ordinary_ones_in_every_fourth_call(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    first = await issue(hc, "hukou")
    second = await issue(hc, "hukou")
    clock.advance(minutes=25)  # both past hukou's 20-minute wait target
    for _ in range(10):
        await issue(hc, "hukou", priority="elderly")
    w1 = await login(hc, "w1")
    numbers = []
    order = []
    for _ in range(12):
        ticket = await call(hc, 1, w1)
        numbers.append(ticket["number"])
        order.append("G" if ticket["priority"] else "O")
        await step(hc, ticket["id"], "no-show", w1)
    assert "".join(order) == "GGGOGGGOGGGG"
    # the oldest overdue ticket first
    assert numbers[3] == first["number"] and numbers[7] == second["number"]
    assert (await post(hc, "/windows/1/call-next", w1)).status_code == 204


async def test_without_overdue_ordinary_tickets_green_keeps_going_first(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    await issue(hc, "hukou")
    for _ in range(6):
        await issue(hc, "hukou", priority="military")
    clock.advance(minutes=10)  # the ordinary ticket is within its 20-minute target
    w1 = await login(hc, "w1")
    assert "".join(await calls(hc, 1, w1, 7)) == "GGGGGGO"


async def test_the_limit_is_the_halls_setting(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    admin = await login(hc, "admin")
    r = await hc.patch(
        f"{API}/halls/demo/settings", json={"priority_streak_limit": 1}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["priority_streak_limit"] == 1
    bad = await hc.patch(
        f"{API}/halls/demo/settings", json={"priority_streak_limit": -1}, headers=admin
    )
    assert bad.status_code == 422
    nulled = await hc.patch(
        f"{API}/halls/demo/settings", json={"priority_streak_limit": None}, headers=admin
    )
    assert nulled.status_code == 422
    for _ in range(2):
        await issue(hc, "hukou")
    clock.advance(minutes=21)
    for _ in range(3):
        await issue(hc, "hukou", priority="pregnant")
    w1 = await login(hc, "w1")
    assert "".join(await calls(hc, 1, w1, 5)) == "GOGOG"


async def test_an_ordinary_ticket_of_another_window_does_not_break_the_streak(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    await issue(hc, "budongchan")  # window 1 does not serve 不动产
    clock.advance(minutes=30)
    for _ in range(5):
        await issue(hc, "hukou", priority="elderly")
    w1 = await login(hc, "w1")
    assert "".join(await calls(hc, 1, w1, 5)) == "GGGGG"


async def take_remote(c: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    r = await c.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": phone})
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def check_in(c: httpx.AsyncClient, number: str) -> None:
    r = await c.post(f"{API}/halls/demo/remote-tickets/{number}/check-in", headers=KIOSK)
    assert r.status_code in (200, 201), r.text


async def test_a_remote_tickets_wait_counts_from_its_check_in(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    remote = await take_remote(hc, "13900000001")
    clock.advance(minutes=40)  # taken on the phone 40 minutes before the citizen arrives
    await check_in(hc, remote["number"])
    for _ in range(4):
        await issue(hc, "hukou", priority="disabled")
    clock.advance(minutes=5)
    w1 = await login(hc, "w1")
    # it waited 5 minutes, not 45: no reason to let it before the fourth green ticket
    assert "".join(await calls(hc, 1, w1, 5)) == "GGGGO"

    office = await login(hc, "office")
    stats = (
        await hc.get(f"{API}/halls/demo/stats?period=2026-11-26&by=hall", headers=office)
    ).json()["total"]
    assert stats["wait_minutes"]["mean"] == 5.0 and stats["wait_breaches"] == 0
    async with hall_app.state.core.db.read() as session:
        from sqlalchemy import select

        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        day = business_day(hall, clock.now())
        [row] = [
            r for r in await counts(session, hall, day, day, clock.now()) if r.service == "hukou"
        ]
    assert row.tickets == 5 and row.wait_breaches == 0


async def test_a_checked_in_remote_ticket_past_its_target_counts_as_overdue(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    remote = await take_remote(hc, "13900000002")
    clock.advance(minutes=5)
    await check_in(hc, remote["number"])
    clock.advance(minutes=21)  # 21 minutes in the hall
    for _ in range(4):
        await issue(hc, "hukou", priority="elderly")
    w1 = await login(hc, "w1")
    assert "".join(await calls(hc, 1, w1, 5)) == "GGGOG"
