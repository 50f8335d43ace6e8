"""Hold (挂起) and resume: a called or serving ticket is set aside while the citizen fetches a
copy, the window serves others, and takes it up again; held tickets expire with the day."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.support.client import issue, login
from tests.support.queue import API, call, error_code, post, step
from window_service.clock import FixedClock
from window_service.ledger import HallLedger
from window_service.queue.models import Ticket, TicketEvent


async def queue_version(app: Any) -> int:
    async with app.state.core.db.read() as session:
        return int((await session.execute(select(HallLedger.queue_version))).scalars().first() or 0)


async def test_hold_lets_the_window_serve_others_and_resume_where_it_stood(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    first = await issue(hc, "hukou")
    second = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    called = await call(hc, 1, w1)
    await step(hc, called["id"], "start", w1)
    before = await queue_version(hall_app)
    held = await step(hc, first["id"], "hold", w1)
    assert held["status"] == "held" and held["status_label"] == "挂起"
    assert await queue_version(hall_app) > before, "a hold is a queue change"
    # the window is free: it calls and serves the next citizen
    other = await call(hc, 1, w1)
    assert other["number"] == second["number"]
    r = await post(hc, f"/tickets/{first['id']}/resume", w1)
    assert r.status_code == 409 and error_code(r) == "window_busy"
    await step(hc, other["id"], "hold", w1)  # a called ticket may be held too
    resumed = await step(hc, first["id"], "resume", w1)
    assert resumed["status"] == "serving" and resumed["window"] == 1
    await step(hc, first["id"], "finish", w1, {"outcome": "completed"})
    again = await step(hc, other["id"], "resume", w1)
    assert again["status"] == "called"  # it was called, not yet served
    await step(hc, other["id"], "start", w1)

    async with hall_app.state.core.db.read() as session:
        ticket = await session.get(Ticket, first["id"])
        assert ticket is not None and ticket.holds == 1
        actions = list(
            (
                await session.execute(
                    select(TicketEvent.action)
                    .where(TicketEvent.ticket_id == first["id"])  # type: ignore[arg-type]
                    .order_by(TicketEvent.id)  # type: ignore[arg-type]
                )
            ).scalars()
        )
    assert actions[-5:] == ["called", "started", "held", "resumed", "finished"]

    office = await login(hc, "office")
    rows = (
        await hc.get(f"{API}/halls/demo/stats?period=2026-11-26&by=window", headers=office)
    ).json()["rows"]
    assert {r["key"]: r["holds"] for r in rows}["1"] == 2  # holds per window and day


async def test_hold_and_resume_refuse_the_wrong_state_and_other_windows(
    hc: httpx.AsyncClient,
) -> None:
    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    w2 = await login(hc, "w2")
    r = await post(hc, f"/tickets/{ticket['id']}/hold", w1)
    assert r.status_code == 409 and error_code(r) == "invalid_state"  # still waiting
    r = await post(hc, f"/tickets/{ticket['id']}/resume", w1)
    assert r.status_code == 409 and error_code(r) == "invalid_state"
    await call(hc, 1, w1)
    r = await post(hc, f"/tickets/{ticket['id']}/hold", w2)
    assert r.status_code == 403
    await step(hc, ticket["id"], "hold", w1)
    r = await post(hc, f"/tickets/{ticket['id']}/hold", w1)
    assert r.status_code == 409 and error_code(r) == "invalid_state"
    r = await post(hc, f"/tickets/{ticket['id']}/resume", w2)
    assert r.status_code == 403, "only the window that held it resumes it"
    r = await post(hc, f"/tickets/{ticket['id']}/start", w1)
    assert r.status_code == 409, "a held ticket is resumed first"
    for bad in ("/tickets/abc/hold", "/tickets/99999999/hold"):
        r = await post(hc, bad, w1)
        assert r.status_code in (404, 422) and error_code(r)
    r = await hc.post(f"{API}/tickets/{ticket['id']}/resume", headers=w1, json={"x": 1})
    assert r.status_code in (200, 422)  # no body is expected; never a 500


async def test_a_held_ticket_shows_on_the_terminal_state(hc: httpx.AsyncClient) -> None:
    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    await call(hc, 1, w1)
    await step(hc, ticket["id"], "hold", w1)
    r = await hc.get(f"{API}/windows/1/held", headers=w1)
    assert r.status_code == 200, r.text
    assert [t["number"] for t in r.json()] == [ticket["number"]]
    w2 = await login(hc, "w2")
    assert (await hc.get(f"{API}/windows/1/held", headers=w2)).status_code == 403


async def test_a_held_ticket_expires_with_the_business_day(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    from window_service.housekeeping import expire_tickets

    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    await call(hc, 1, w1)
    await step(hc, ticket["id"], "hold", w1)
    clock.advance(hours=24)
    await expire_tickets(hall_app.state.core)
    assert (await hc.get(f"/api/v1/track/{ticket['track_token']}")).json()["status"] == "expired"
