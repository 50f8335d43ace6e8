"""A ticket's life at the windows: call order, recall, start/finish, no-show, return, cancel,
transfer, pause/resume, and what the citizen is told (ahead, estimated wait).

The hall clock is a FixedClock (Thursday 26 November 2026, 10:00 hall time) moved by the tests,
so queue times are known.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.support.client import KIOSK, issue, login
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.config import Settings
from window_service.halls.models import Hall
from window_service.queue import hall_batch
from window_service.queue.models import Ticket, TicketEvent


async def post(
    c: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    return await c.post(f"/api/v1{path}", headers=headers, json=body)


async def call(c: httpx.AsyncClient, window: int, headers: dict[str, str]) -> dict[str, Any]:
    r = await post(c, f"/windows/{window}/call-next", headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def step(
    c: httpx.AsyncClient, ticket_id: int, action: str, headers: dict[str, str], body: Any = None
) -> dict[str, Any]:
    r = await post(c, f"/tickets/{ticket_id}/{action}", headers, body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def ticket_view(c: httpx.AsyncClient, ticket: dict[str, Any]) -> dict[str, Any]:
    r = await c.get(f"/api/v1/track/{ticket['track_token']}")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return str(body["error"]["code"])


async def test_window_8_calls_green_channel_first_then_by_queue_time_across_its_services(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    issued = []
    for service, priority in [
        ("budongchan", None),
        ("hukou", None),
        ("qiye", None),
        ("shebao", "elderly"),
        ("hukou", "military"),
    ]:
        issued.append(await issue(hc, service, priority=priority))
        clock.advance(minutes=1)
    assert [t["number"] for t in issued] == ["B001", "A001", "C001", "D001", "A002"]
    assert issued[3]["priority"] == "elderly"
    w8 = await login(hc, "w8")
    order = []
    for _ in issued:
        ticket = await call(hc, 8, w8)
        assert ticket["status"] == "called" and ticket["window"] == 8
        order.append(ticket["number"])
        await step(hc, ticket["id"], "no-show", w8)
    # Green channel (D001 elderly, A002 military) by their queue time, then everyone else.
    assert order == ["D001", "A002", "B001", "A001", "C001"]
    r = await post(hc, "/windows/8/call-next", w8)
    assert r.status_code == 204 and r.content == b""


async def test_a_window_calls_only_its_own_services_in_number_order(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    await issue(hc, "budongchan")
    for _ in range(3):
        await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    numbers = []
    for _ in range(3):
        ticket = await call(hc, 1, w1)
        numbers.append(ticket["number"])
        await step(hc, ticket["id"], "start", w1)
        await step(hc, ticket["id"], "finish", w1, {"outcome": "completed"})
    assert numbers == ["A001", "A002", "A003"]
    r = await post(hc, "/windows/1/call-next", w1)
    assert r.status_code == 204, "window 1 serves hukou only; B001 is not its ticket"


async def test_call_next_refused_while_the_window_has_a_called_or_serving_ticket(
    hc: httpx.AsyncClient,
) -> None:
    await issue(hc)
    await issue(hc)
    w1 = await login(hc, "w1")
    first = await call(hc, 1, w1)
    r = await post(hc, "/windows/1/call-next", w1)
    assert r.status_code == 409 and error_code(r) == "window_busy"
    await step(hc, first["id"], "start", w1)
    r = await post(hc, "/windows/1/call-next", w1)
    assert r.status_code == 409 and error_code(r) == "window_busy"
    done = await step(hc, first["id"], "finish", w1, {"outcome": "accepted"})
    assert done["status"] == "done" and done["outcome"] == "accepted"
    assert (await call(hc, 1, w1))["number"] == "A002"


async def test_recall_at_most_five_times(hc: httpx.AsyncClient, hall_app: Any) -> None:
    ticket = await issue(hc)
    w1 = await login(hc, "w1")
    r = await post(hc, "/windows/1/recall", w1)
    assert r.status_code == 409 and error_code(r) == "nothing_to_recall"
    await call(hc, 1, w1)
    for _ in range(5):
        r = await post(hc, "/windows/1/recall", w1)
        assert r.status_code == 200, r.text
        assert r.json()["number"] == "A001"
    r = await post(hc, "/windows/1/recall", w1)
    assert r.status_code == 409 and error_code(r) == "recall_limit"
    async with hall_app.state.core.db.read() as session:
        actions = list(
            (
                await session.execute(
                    select(TicketEvent.action)
                    .where(TicketEvent.ticket_id == ticket["id"])
                    .order_by(TicketEvent.id)
                )
            ).scalars()  # type: ignore[arg-type]
        )
    assert actions.count("recalled") == 5 and actions.count("called") == 1
    # Once being served there is nothing to recall.
    await step(hc, ticket["id"], "start", w1)
    r = await post(hc, "/windows/1/recall", w1)
    assert r.status_code == 409


async def test_state_machine_refuses_steps_out_of_order(hc: httpx.AsyncClient) -> None:
    waiting = await issue(hc)
    w1 = await login(hc, "w1")
    for action, body in [
        ("start", None),
        ("finish", {"outcome": "completed"}),
        ("no-show", None),
        ("return", None),
    ]:
        r = await post(hc, f"/tickets/{waiting['id']}/{action}", w1, body)
        assert r.status_code == 409, (action, r.text)
        assert error_code(r) == "invalid_state"
    called = await call(hc, 1, w1)
    r = await post(hc, f"/tickets/{called['id']}/finish", w1, {"outcome": "completed"})
    assert r.status_code == 409, "finishing needs the service to have started"
    serving = await step(hc, called["id"], "start", w1)
    assert serving["status"] == "serving"
    for action in ("start", "no-show", "return", "cancel"):
        r = await post(hc, f"/tickets/{called['id']}/{action}", w1)
        assert r.status_code == 409, (action, r.text)
    r = await post(hc, f"/tickets/{called['id']}/finish", w1, {"outcome": "maybe"})
    assert r.status_code == 422
    done = await step(hc, called["id"], "finish", w1, {"outcome": "consulted"})
    assert done["status"] == "done"
    for action, body in [
        ("finish", {"outcome": "completed"}),
        ("transfer", {"service": "qiye"}),
        ("cancel", None),
    ]:
        r = await post(hc, f"/tickets/{called['id']}/{action}", w1, body)
        assert r.status_code == 409, (action, r.text)


async def test_no_show_frees_the_window(hc: httpx.AsyncClient) -> None:
    issued = await issue(hc)
    await issue(hc)
    w1 = await login(hc, "w1")
    first = await call(hc, 1, w1)
    assert first["track_token"] is None, "the citizen's token is not shown to the window"
    gone = await step(hc, first["id"], "no-show", w1)
    assert gone["status"] == "no_show"
    assert (await call(hc, 1, w1))["number"] == "A002"
    view = await ticket_view(hc, issued)
    assert view["status"] == "no_show" and view["can_rate"] is False


async def test_returned_ticket_keeps_its_place(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    first = await issue(hc)
    clock.advance(minutes=2)
    await issue(hc)
    w1 = await login(hc, "w1")
    called = await call(hc, 1, w1)
    assert called["number"] == "A001"
    clock.advance(minutes=5)
    back = await step(hc, called["id"], "return", w1)
    assert back["status"] == "waiting" and back["window"] is None
    assert back["queued_at"] == first["queued_at"] and back["ahead"] == 0
    again = await call(hc, 1, w1)
    assert again["number"] == "A001", "a returned ticket is not sent to the back"


async def test_cancel_waiting_and_called_tickets(hc: httpx.AsyncClient) -> None:
    a1 = await issue(hc)
    a2 = await issue(hc)
    a3 = await issue(hc)
    w1 = await login(hc, "w1")
    assert (await step(hc, a2["id"], "cancel", w1))["status"] == "cancelled"
    assert (await ticket_view(hc, a3))["ahead"] == 1
    called = await call(hc, 1, w1)
    assert called["id"] == a1["id"]
    assert (await step(hc, called["id"], "cancel", w1))["status"] == "cancelled"
    assert (await call(hc, 1, w1))["number"] == "A003"
    services = {s["code"]: s for s in (await hc.get("/api/v1/halls/demo/services")).json()}
    assert services["hukou"]["waiting"] == 0


async def test_transfer_keeps_number_and_original_queue_time(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    b1 = await issue(hc, "budongchan")
    clock.advance(minutes=1)
    a1 = await issue(hc, "hukou")
    clock.advance(minutes=1)
    b2 = await issue(hc, "budongchan")
    w1, w3 = await login(hc, "w1"), await login(hc, "w3")
    called = await call(hc, 1, w1)
    assert called["number"] == "A001"
    await step(hc, called["id"], "start", w1)
    clock.advance(minutes=10)
    moved = await step(hc, called["id"], "transfer", w1, {"service": "budongchan"})
    assert moved["number"] == "A001" and moved["service"] == "budongchan"
    assert moved["status"] == "waiting" and moved["queued_at"] == a1["queued_at"]
    # A001 waits in B's queue behind B001 and ahead of B002.
    assert moved["ahead"] == 1
    assert (await ticket_view(hc, b2))["ahead"] == 2
    order = []
    for _ in range(3):
        ticket = await call(hc, 3, w3)
        order.append(ticket["number"])
        await step(hc, ticket["id"], "no-show", w3)
    assert order == [b1["number"], "A001", b2["number"]]
    # The window that transferred it no longer holds it, and it keeps its history.
    assert (await post(hc, "/windows/1/call-next", w1)).status_code == 204
    r = await post(hc, f"/tickets/{called['id']}/transfer", w3, {"service": "hukou"})
    assert r.status_code == 409, "a no-show ticket cannot be transferred"
    b3 = await issue(hc, "budongchan")
    r = await post(hc, f"/tickets/{b3['id']}/transfer", w3, {"service": "budongchan"})
    assert r.status_code == 409 and error_code(r) == "same_service"


async def test_pause_and_resume(hc: httpx.AsyncClient) -> None:
    await issue(hc)
    w1 = await login(hc, "w1")
    r = await post(hc, "/windows/1/pause", w1)
    assert r.status_code == 200 and r.json()["status"] == "paused" and r.json()["number"] == 1
    windows = {w["number"]: w for w in (await hc.get("/api/v1/halls/demo/windows")).json()}
    assert windows[1]["status"] == "paused"
    r = await post(hc, "/windows/1/call-next", w1)
    assert r.status_code == 409 and error_code(r) == "window_not_open"
    r = await post(hc, "/windows/1/resume", w1)
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert (await call(hc, 1, w1))["number"] == "A001"


async def test_called_ticket_shows_its_window_to_the_citizen(hc: httpx.AsyncClient) -> None:
    ticket = await issue(hc)
    assert ticket["track_token"] and ticket["track_url"].endswith(ticket["track_token"])
    w2 = await login(hc, "w2")
    await call(hc, 2, w2)
    view = await ticket_view(hc, ticket)
    assert view["status"] == "called" and view["window"] == 2 and view["number"] == "A001"
    assert view["hall"] == "demo" and view["can_rate"] is False
    windows = {w["number"]: w for w in (await hc.get("/api/v1/halls/demo/windows")).json()}
    assert windows[2]["current"]["number"] == "A001" and windows[2]["current"]["status"] == "called"
    await step(hc, ticket["id"], "start", w2)
    await step(hc, ticket["id"], "finish", w2, {"outcome": "completed"})
    assert (await ticket_view(hc, ticket))["can_rate"] is True
    windows = {w["number"]: w for w in (await hc.get("/api/v1/halls/demo/windows")).json()}
    assert windows[2]["current"] is None


async def test_hall_with_issuing_hours_refuses_outside_them(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    async with hall_app.state.core.db.write() as session:
        await session.execute(
            update(Hall)
            .where(Hall.code == "demo")
            .values(issuing_start=time(8, 30), issuing_end=time(17, 0), issuing_weekdays="12345")  # type: ignore[arg-type]
        )
        await session.commit()
    # Thursday 10:00: open.
    assert (await issue(hc))["number"] == "A001"
    refused = []
    for move in ({"hours": 7, "minutes": 30}, {"hours": -10}, {"days": 2, "hours": 3}):
        clock.advance(**move)  # 17:30 Thursday, 07:30 Thursday, 10:30 Saturday
        r = await hc.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
        refused.append(r.status_code)
        assert r.status_code == 409 and error_code(r) == "outside_issuing_hours", r.text
    assert refused == [409, 409, 409]
    clock.advance(days=2)  # Monday 10:30
    r = await hc.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    assert r.status_code == 201 and r.json()["number"] == "A001"
    async with hall_app.state.core.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 2


async def test_a_new_ticket_knows_its_place_after_every_kind_of_queue_change(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    """Issuing keeps its waiting counts from batch to batch (queue/waiting.py) and trusts them
    only while nothing but issuing has changed the queue: after a call, a cancellation, a
    return, a transfer or a green-channel ticket, a new ticket's place is still exact."""

    async def place() -> int:
        clock.advance(seconds=10)
        ticket = await issue(hc)
        recounted = (await ticket_view(hc, ticket))["ahead"]
        assert ticket["ahead"] == recounted, ticket["number"]
        return int(ticket["ahead"])

    w1 = await login(hc, "w1")
    a = [await issue(hc) for _ in range(3)]  # A001-A003
    assert [t["ahead"] for t in a] == [0, 1, 2]
    assert await place() == 3  # A004
    called = await call(hc, 1, w1)  # A001 leaves the queue
    assert await place() == 3  # A005: A002-A004 ahead
    await step(hc, a[2]["id"], "cancel", w1)  # A003
    assert await place() == 3  # A006: A002, A004, A005
    await step(hc, called["id"], "return", w1)  # A001 back, first in line
    assert await place() == 5
    green = await issue(hc, priority="elderly")
    assert green["ahead"] == 0
    assert await place() == 7  # the green ticket too
    b1 = await issue(hc, "budongchan")
    w3 = await login(hc, "w3")
    moved = await call(hc, 3, w3)
    assert moved["id"] == b1["id"]
    await step(hc, moved["id"], "transfer", w3, {"service": "hukou"})
    assert await place() == 9  # B001, now waiting for 户籍, too


async def test_issuing_counts_the_queue_once_not_per_batch(
    hc: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = 0
    real = hall_batch.waiting_snapshot

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal counted
        counted += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(hall_batch, "waiting_snapshot", counting)
    tickets = [await issue(hc, service) for service in ["hukou", "budongchan"] * 4]
    # Nobody on duty, and window 8 serves both: each has every earlier ticket ahead.
    assert [t["ahead"] for t in tickets] == list(range(8))
    assert counted == 1, "eight batches in a row, one count of the queue"


async def test_green_ticket_place_when_another_process_issued_meanwhile(
    hc: httpx.AsyncClient, settings: Settings, clock: FixedClock
) -> None:
    """Tickets another process numbered are added to the kept counts unread: the totals stay
    exact, and a green-channel ticket's place (which needs the lanes) is counted afresh."""
    other_app = create_app(settings, clock=clock, run_housekeeping=False)
    try:
        transport = httpx.ASGITransport(app=other_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as other:
            assert [(await issue(hc))["ahead"] for _ in range(2)] == [0, 1]
            assert (await issue(other, priority="military"))["ahead"] == 0
            plain = await issue(hc)
            assert plain["ahead"] == 3
            green = await issue(hc, priority="elderly")
            assert green["ahead"] == 1, "behind the other process's green-channel ticket"
            assert (await ticket_view(hc, green))["ahead"] == 1
    finally:
        await other_app.state.core.db.dispose()
