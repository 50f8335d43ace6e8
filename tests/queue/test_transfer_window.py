"""Transfer to a named window or colleague (转移到窗口/人员): the ticket keeps its queue time,
waits for that window only and is called there in queue-time order; a window that does not
serve the ticket's service, or is closed, is refused with a Chinese message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.support.client import issue, login
from tests.support.queue import API, call, error_code, post, step
from window_service.clock import FixedClock
from window_service.halls.models import Window


async def test_transfer_to_a_window_waits_for_that_window_only_keeping_its_queue_time(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    first = await issue(hc, "hukou")
    clock.advance(minutes=1)
    later = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    w2 = await login(hc, "w2")
    w8 = await login(hc, "w8")
    called = await call(hc, 1, w1)
    assert called["number"] == first["number"]
    moved = await step(hc, called["id"], "transfer", w1, {"window": 8})
    assert moved["status"] == "waiting" and moved["queued_at"] == first["queued_at"]
    # window 2 serves hukou too, but the ticket now waits for window 8 only
    assert (await call(hc, 2, w2))["number"] == later["number"]
    assert (await post(hc, "/windows/1/call-next", w1)).status_code == 204
    queue8 = (await hc.get(f"{API}/windows/8/queue", headers=w8)).json()
    assert [t["number"] for t in queue8] == [first["number"]]
    queue1 = (await hc.get(f"{API}/windows/1/queue", headers=w1)).json()
    assert queue1 == []
    assert (await call(hc, 8, w8))["number"] == first["number"]


async def test_a_transferred_ticket_keeps_its_place_at_the_new_window(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    early = await issue(hc, "hukou")
    clock.advance(minutes=5)
    others = [await issue(hc, "budongchan") for _ in range(2)]
    w1 = await login(hc, "w1")
    w8 = await login(hc, "w8")
    await step(hc, (await call(hc, 1, w1))["id"], "transfer", w1, {"staff": "w8"})
    numbers = []
    for _ in range(3):
        ticket = await call(hc, 8, w8)
        numbers.append(ticket["number"])
        await step(hc, ticket["id"], "no-show", w8)
    # its original queue time puts it before the later 不动产 tickets
    assert numbers == [early["number"], others[0]["number"], others[1]["number"]]


async def test_transfer_to_a_colleague_goes_to_their_window_on_duty(
    hc: httpx.AsyncClient,
) -> None:
    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    w2 = await login(hc, "w2")
    await call(hc, 1, w1)
    await step(hc, ticket["id"], "transfer", w1, {"staff": "w2"})
    assert (await call(hc, 2, w2))["number"] == ticket["number"]


async def test_transfer_refuses_windows_that_cannot_take_the_ticket(
    hc: httpx.AsyncClient, hall_app: Any
) -> None:
    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    await call(hc, 1, w1)
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"window": 3})  # 不动产 only
    assert r.status_code == 409 and error_code(r) == "window_not_serving"
    assert "不办理" in r.json()["error"]["message"]
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"staff": "w5"})  # 企业开办
    assert r.status_code == 409 and error_code(r) == "window_not_serving"
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"window": 1})
    assert r.status_code == 409 and error_code(r) == "same_window"
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"window": 99})
    assert r.status_code == 404
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"staff": "office"})
    assert r.status_code == 404, "an inspector is no colleague at a window"
    async with hall_app.state.core.db.write() as session:
        await session.execute(update(Window).where(Window.number == 2).values(status="closed"))  # type: ignore[arg-type]
        await session.commit()
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, {"window": 2})
    assert r.status_code == 409 and error_code(r) == "window_closed"
    assert "已关闭" in r.json()["error"]["message"]
    # nothing changed: the ticket is still at window 1
    assert (await hc.get(f"{API}/tickets/{ticket['id']}", headers=w1)).json()["status"] == "called"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"window": 8, "service": "hukou"},
        {"window": "8"},
        {"window": 0},
        {"window": True},
        {"window": 10**12},
        {"staff": ""},
        {"staff": "x" * 65},
        {"service": None, "window": None},
        {"floor": 2},
    ],
)
async def test_transfer_bad_input_is_422(hc: httpx.AsyncClient, body: dict[str, Any]) -> None:
    ticket = await issue(hc, "hukou")
    w1 = await login(hc, "w1")
    await call(hc, 1, w1)
    r = await post(hc, f"/tickets/{ticket['id']}/transfer", w1, body)
    assert r.status_code == 422, (body, r.text)
    assert error_code(r)


async def test_transfer_targets_list_the_other_open_windows_and_who_is_on_duty(
    hc: httpx.AsyncClient,
) -> None:
    w1 = await login(hc, "w1")
    r = await hc.get(f"{API}/windows/1/transfer-targets", headers=w1)
    assert r.status_code == 200, r.text
    windows = {w["number"]: w for w in r.json()["windows"]}
    assert 1 not in windows and "hukou" in windows[8]["services"]
    assert windows[2]["staff"] == "w2"
    w2 = await login(hc, "w2")
    assert (await hc.get(f"{API}/windows/1/transfer-targets", headers=w2)).status_code == 403
