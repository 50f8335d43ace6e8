"""Ticket numbers per hall × prefix × business day (hall time), the daily reset, expiry of the
previous day's waiting tickets, and idempotent issuance at the kiosk.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.support.client import KIOSK, issue, login
from tests.support.settings import SHANGHAI
from window_service import housekeeping
from window_service.audit.verify import verify_all, verify_chain
from window_service.clock import FixedClock
from window_service.halls.models import Hall
from window_service.queue.models import Ticket


async def tickets_in_db(app: Any) -> list[Ticket]:
    async with app.state.core.db.read() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())  # type: ignore[arg-type]


async def test_numbers_count_per_prefix_from_001(hc: httpx.AsyncClient) -> None:
    numbers = [
        (await issue(hc, code))["number"]
        for code in ["hukou", "budongchan", "hukou", "shuiwu", "hukou", "budongchan"]
    ]
    assert numbers == ["A001", "B001", "A002", "E001", "A003", "B002"]


async def test_numbers_restart_at_the_hall_midnight_and_yesterday_waiting_tickets_expire(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 26, 23, 59, 30, tzinfo=SHANGHAI))  # 15:59:30 UTC
    a1 = await issue(hc)
    a2 = await issue(hc)
    b1 = await issue(hc, "budongchan")
    w1 = await login(hc, "w1")
    served = (await hc.post("/api/v1/windows/1/call-next", headers=w1)).json()
    assert served["number"] == "A001"
    await hc.post(f"/api/v1/tickets/{served['id']}/start", headers=w1)
    # Midnight in Shanghai is 16:00 UTC: a new business day although the UTC date is the same.
    clock.set(datetime(2026, 11, 27, 0, 0, 10, tzinfo=SHANGHAI))
    fresh = await issue(hc)
    assert fresh["number"] == "A001" and fresh["ahead"] == 0, "yesterday's A002 is not ahead"
    # Yesterday's waiting tickets are not called today.
    w2 = await login(hc, "w2")
    called = (await hc.post("/api/v1/windows/2/call-next", headers=w2)).json()
    assert called["id"] == fresh["id"]
    # The late service goes on (延时服务): the ticket being served is finished normally.
    r = await hc.post(
        f"/api/v1/tickets/{a1['id']}/finish", headers=w1, json={"outcome": "completed"}
    )
    assert r.status_code == 200 and r.json()["status"] == "done"

    await housekeeping.run_once(hall_app.state.core)
    await housekeeping.run_once(hall_app.state.core)  # idempotent

    rows = {t.id: t for t in await tickets_in_db(hall_app)}
    assert len(rows) == 4, "nothing is deleted"
    assert rows[a2["id"]].status == "expired" and rows[b1["id"]].status == "expired"
    assert rows[a2["id"]].finished_at is not None
    assert rows[a1["id"]].status == "done"
    assert rows[fresh["id"]].status == "called"
    view = (await hc.get(f"/api/v1/track/{a2['track_token']}")).json()
    assert view["status"] == "expired" and view["number"] == "A002"
    services = {s["code"]: s for s in (await hc.get("/api/v1/halls/demo/services")).json()}
    assert services["hukou"]["waiting"] == 0 and services["budongchan"]["waiting"] == 0
    r = await hc.post(f"/api/v1/tickets/{a2['id']}/cancel", headers=w2)
    assert r.status_code == 409, "an expired ticket is closed"
    async with hall_app.state.core.db.read() as session:
        assert await verify_all(session) is None, "expiry is in the audit chain"
    # B restarts too.
    assert (await issue(hc, "budongchan"))["number"] == "B001"


async def test_same_idempotency_key_within_the_day_returns_the_same_ticket(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    body = {"service": "hukou", "idempotency_key": "kiosk-1-tap-42"}
    first = await hc.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK)
    assert first.status_code == 201
    clock.advance(seconds=3)
    again = await hc.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["number"] == "A001"
    assert again.json()["track_token"] == first.json()["track_token"]
    other = await hc.post(
        "/api/v1/halls/demo/tickets",
        json={**body, "idempotency_key": "kiosk-1-tap-43"},
        headers=KIOSK,
    )
    assert other.status_code == 201 and other.json()["number"] == "A002"
    no_key = await issue(hc)
    assert no_key["number"] == "A003"
    # The next business day the key is a new request.
    clock.advance(days=1)
    tomorrow = await hc.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK)
    assert tomorrow.status_code == 201 and tomorrow.json()["number"] == "A001"
    assert len(await tickets_in_db(hall_app)) == 4


async def test_refused_issue_consumes_no_number(hc: httpx.AsyncClient, hall_app: Any) -> None:
    assert (await issue(hc))["number"] == "A001"
    for body in (
        {"service": "nope"},
        {"service": "hukou", "priority": "vip"},
        {"service": "hukou", "extra": 1},
    ):
        r = await hc.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK)
        assert r.status_code in (404, 422), r.text
    assert (await issue(hc))["number"] == "A002"
    async with hall_app.state.core.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 2


async def test_requests_arriving_together_each_get_their_own_answer(
    hc: httpx.AsyncClient, hall_app: Any
) -> None:
    """Kiosk requests that arrive together share one transaction; each still gets its own
    ticket or error, and a bad one costs nobody else a number."""
    from tests.support.other_hall import OTHER_KIOSK, add_other_hall

    await add_other_hall(hall_app)
    url = "/api/v1/halls/demo/tickets"
    calls = [
        hc.post(url, json={"service": "hukou"}, headers=KIOSK),
        hc.post(url, json={"service": "nope"}, headers=KIOSK),
        hc.post(url, json={"service": "hukou", "idempotency_key": "tap-1"}, headers=KIOSK),
        hc.post(url, json={"service": "budongchan", "priority": "pregnant"}, headers=KIOSK),
        hc.post(url, json={"service": "hukou"}, headers=OTHER_KIOSK),
        hc.post(url, json={"service": "hukou", "idempotency_key": "tap-1"}, headers=KIOSK),
        hc.post(url, json={"service": "hukou"}, headers=KIOSK),
    ]
    responses = await asyncio.gather(*calls)
    statuses = [r.status_code for r in responses]
    assert statuses[1] == 404 and responses[1].json()["error"]["code"] == "service_not_found"
    assert statuses[4] == 403
    assert sorted([statuses[2], statuses[5]]) == [200, 201]
    assert responses[2].json()["id"] == responses[5].json()["id"]
    assert statuses[0] == statuses[3] == statuses[6] == 201
    hukou = sorted(r.json()["number"] for r in (responses[0], responses[2], responses[6]))
    assert hukou == ["A001", "A002", "A003"]
    assert responses[3].json()["number"] == "B001" and responses[3].json()["ahead"] == 0
    assert len(await tickets_in_db(hall_app)) == 4
    assert (await issue(hc))["number"] == "A004"
    async with hall_app.state.core.db.read() as session:
        # (The other hall was written behind the system's back; the demo hall's chain holds.)
        demo = (await session.execute(select(Hall.id).where(Hall.code == "demo"))).scalar_one()  # type: ignore[call-overload]
        assert await verify_chain(session, demo) is None


def test_track_tokens_are_unguessable_and_start_with_the_queue_time() -> None:
    from window_service.queue.new_ticket import track_tokens

    at = datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=SHANGHAI)
    tokens = track_tokens([at] * 50)
    assert len(set(tokens)) == 50  # one draw from the OS, cut into distinct random parts
    for token in tokens:
        assert re.fullmatch(r"[0-9a-f]{9}[A-Za-z0-9_-]{20}", token)
        assert int(token[:9], 16) == int(at.timestamp() * 1000) % 16**9
    assert track_tokens([]) == []
