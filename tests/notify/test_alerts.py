"""SMS/WeChat alerts (短信/微信提醒) through the optional gateway, with the fake gateway: the two
alerts (N ahead, called) of remote tickets and appointments, each sent once; nothing kept or
sent without configuration; numbers erased; a failing gateway blocks no call.

The hall clock is a FixedClock (10:00 Thursday 26 November 2026, hall time).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import KIOSK, issue, login
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.appointments.models import Appointment
from window_service.clock import FixedClock
from window_service.housekeeping import erase_alert_numbers
from window_service.ledger import AuditRecord, HallEvent
from window_service.notify.gateway import FakeGateway, HttpGateway, configured_gateway
from window_service.notify.models import AlertContact

API = "/api/v1"
PHONE = "13912340001"


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
async def gw_app(
    db_url: str, tmp_path: Path, clock: FixedClock, gateway: FakeGateway
) -> AsyncIterator[Any]:
    settings = make_settings(db_url, tmp_path, notify_url="http://gateway.test/send")
    application = create_app(settings, clock=clock, run_housekeeping=False, gateway=gateway)
    yield application
    await application.state.core.db.dispose()


@pytest.fixture
async def gc(gw_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gw_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c


async def look(app: Any) -> int:
    sent: int = await app.state.notifier.look(1)
    return sent


async def contacts(app: Any) -> list[AlertContact]:
    async with app.state.core.db.read() as session:
        return list((await session.execute(select(AlertContact))).scalars())


async def serve_next(c: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, Any]:
    """Call the next ticket at window 1 and mark it no-show (the window is free again)."""
    called = await c.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.status_code == 200, called.text
    done = await c.post(f"{API}/tickets/{called.json()['id']}/no-show", headers=staff)
    assert done.status_code == 200, done.text
    data: dict[str, Any] = called.json()
    return data


async def nowhere_in_the_record(app: Any, phone: str) -> None:
    """The number is in no event and no audit record."""
    async with app.state.core.db.read() as session:
        events = [
            json.dumps(e.payload) for e in (await session.execute(select(HallEvent))).scalars()
        ]
        records = [
            json.dumps([r.before, r.after, r.reason], default=str)
            for r in (await session.execute(select(AuditRecord))).scalars()
        ]
    assert not [text for text in events + records if phone in text]


async def test_remote_ticket_gets_each_alert_once(
    gc: httpx.AsyncClient, gw_app: Any, gateway: FakeGateway
) -> None:
    for _ in range(4):
        await issue(gc, "hukou")
    r = await gc.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE})
    assert r.status_code == 201, r.text
    remote = r.json()
    assert remote["ahead"] == 4
    assert await look(gw_app) == 0 and gateway.sent == []
    staff = await login(gc, "w1")
    await serve_next(gc, staff)  # 3 ahead now
    assert await look(gw_app) == 1
    assert gateway.sent[0][0] == PHONE
    assert f"网上取号{remote['number']}前面还有3人" in gateway.sent[0][1]
    assert "签到" in gateway.sent[0][1]
    await serve_next(gc, staff)
    assert await look(gw_app) == 0 and len(gateway.sent) == 1  # once, not at 2 ahead again

    r = await gc.post(f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK)
    assert r.status_code == 200, r.text
    await serve_next(gc, staff)
    await serve_next(gc, staff)
    called = await gc.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.json()["number"] == remote["number"]
    assert await look(gw_app) == 1
    assert gateway.sent[1] == (
        PHONE,
        f"【{(await hall_name(gc))}】请{remote['number']}号到1号窗口办理。过号需重新取号。",
    )
    assert await look(gw_app) == 0 and len(gateway.sent) == 2
    [contact] = await contacts(gw_app)
    assert contact.phone is None and contact.erased_at is not None  # nothing left to send
    await nowhere_in_the_record(gw_app, PHONE)


async def hall_name(c: httpx.AsyncClient) -> str:
    admin = await login(c, "admin")
    r = await c.get(f"{API}/halls/demo/settings", headers=admin)
    name: str = r.json()["name"]
    return name


async def test_booked_citizen_is_alerted_after_check_in(
    gc: httpx.AsyncClient, gw_app: Any, gateway: FakeGateway, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI))
    r = await gc.post(
        f"{API}/halls/demo/appointments",
        json={
            "service": "hukou",
            "date": "2026-11-26",
            "start": "09:00",
            "name": "李四",
            "phone": "139 1234 0002",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    [contact] = await contacts(gw_app)
    assert contact.phone == "13912340002" and contact.ticket_id is None
    for _ in range(2):
        await issue(gc, "hukou")
    clock.set(datetime(2026, 11, 26, 8, 45, tzinfo=SHANGHAI))
    r = await gc.post(f"{API}/halls/demo/appointments/{code}/check-in", headers=KIOSK)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["ahead"] == 0  # on time: called like green channel
    assert await look(gw_app) == 1
    assert gateway.sent[0] == ("13912340002", gateway.sent[0][1])
    assert f"{ticket['number']}前面还有0人" in gateway.sent[0][1]
    staff = await login(gc, "w1")
    called = await gc.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.json()["number"] == ticket["number"]
    assert await look(gw_app) == 1
    assert f"请{ticket['number']}号到1号窗口办理" in gateway.sent[1][1]
    await nowhere_in_the_record(gw_app, "13912340002")


async def test_cancelled_booking_and_past_days_erase_the_number(
    gc: httpx.AsyncClient, gw_app: Any, clock: FixedClock
) -> None:
    r = await gc.post(
        f"{API}/halls/demo/appointments",
        json={
            "service": "hukou",
            "date": "2026-11-27",
            "start": "09:00",
            "name": "王五",
            "phone": "13912340003",
        },
    )
    assert r.status_code == 201, r.text
    cancelled = await gc.post(f"{API}/appointments/{r.json()['manage_token']}/cancel")
    assert cancelled.status_code == 200
    r = await gc.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE})
    assert r.status_code == 201
    rows = {c.phone for c in await contacts(gw_app)}
    assert rows == {None, PHONE}
    clock.advance(days=1)
    await erase_alert_numbers(gw_app.state.core)
    assert {c.phone for c in await contacts(gw_app)} == {None}


async def test_a_failing_gateway_blocks_no_call_and_is_not_retried(
    gc: httpx.AsyncClient, gw_app: Any, gateway: FakeGateway
) -> None:
    gateway.fail = True
    r = await gc.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE})
    remote = r.json()
    await gc.post(f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK)
    staff = await login(gc, "w1")
    called = await gc.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.status_code == 200 and called.json()["number"] == remote["number"]
    assert await look(gw_app) == 0  # failed, logged
    gateway.fail = False
    assert await look(gw_app) == 0 and gateway.sent == []  # at most once: not sent again


async def test_the_running_notifier_follows_the_hubs_events(
    gc: httpx.AsyncClient, gw_app: Any, gateway: FakeGateway
) -> None:
    """The background path: committed events reach the notifier through the hub."""
    r = await gc.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE})
    remote = r.json()
    task = asyncio.ensure_future(gw_app.state.notifier.run_forever())
    try:
        for _ in range(200):
            if gateway.sent:
                break
            await asyncio.sleep(0.05)
        assert len(gateway.sent) == 1 and "前面还有0人" in gateway.sent[0][1]
        await gc.post(f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK)
        staff = await login(gc, "w1")
        assert (await gc.post(f"{API}/windows/1/call-next", headers=staff)).status_code == 200
        for _ in range(200):
            if len(gateway.sent) == 2:
                break
            await asyncio.sleep(0.05)
        assert "1号窗口" in gateway.sent[1][1]
        await asyncio.sleep(0.5)
        assert len(gateway.sent) == 2
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_nothing_is_kept_or_sent_without_a_gateway(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    try:
        assert app.state.notifier is None
        assert configured_gateway(app.state.core.settings) is None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
            r = await c.post(
                f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE}
            )
            assert r.status_code == 201, r.text
            r = await c.post(
                f"{API}/halls/demo/appointments",
                json={
                    "service": "hukou",
                    "date": "2026-11-27",
                    "start": "09:00",
                    "name": "赵六",
                    "phone": "13912340004",
                },
            )
            assert r.status_code == 201, r.text
        assert await contacts(app) == []
    finally:
        await app.state.core.db.dispose()


async def test_the_http_gateway_posts_the_text_signed() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200 if len(seen) == 1 else 503)

    gateway = HttpGateway("http://sms.test/send", "s3cret", transport=httpx.MockTransport(answer))
    await gateway.send(PHONE, "请A001号到1号窗口办理")
    body = seen[0].content
    assert json.loads(body) == {"phone": PHONE, "text": "请A001号到1号窗口办理"}
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert seen[0].headers["X-Signature-256"] == f"sha256={expected}"
    with pytest.raises(httpx.HTTPStatusError):
        await gateway.send(PHONE, "again")


async def test_admin_sets_when_the_phone_is_alerted(client: httpx.AsyncClient) -> None:
    admin = await login(client, "admin")
    r = await client.get(f"{API}/halls/demo/settings", headers=admin)
    assert r.json()["alert_ahead"] == 3
    r = await client.patch(f"{API}/halls/demo/settings", json={"alert_ahead": 5}, headers=admin)
    assert r.status_code == 200 and r.json()["alert_ahead"] == 5
    r = await client.patch(f"{API}/halls/demo/settings", json={"alert_ahead": -1}, headers=admin)
    assert r.status_code == 422
    ticket = await issue(client, "hukou")
    page = await client.get(f"/t/{ticket['track_token']}")
    assert '"alert_ahead": 5' in page.text or '"alert_ahead":5' in page.text


async def test_two_looks_at_once_send_each_alert_once(
    gc: httpx.AsyncClient, gw_app: Any, gateway: FakeGateway
) -> None:
    """Two processes (here: two looks racing) seeing the same change send the alert once."""
    r = await gc.post(f"{API}/halls/demo/remote-tickets", json={"service": "hukou", "phone": PHONE})
    assert r.status_code == 201
    sent = await asyncio.gather(*(look(gw_app) for _ in range(4)))
    assert sorted(sent) == [0, 0, 0, 1] and len(gateway.sent) == 1


async def test_a_changed_booking_keeps_its_number(
    gc: httpx.AsyncClient, gw_app: Any, clock: FixedClock
) -> None:
    r = await gc.post(
        f"{API}/halls/demo/appointments",
        json={
            "service": "hukou",
            "date": "2026-11-27",
            "start": "09:00",
            "name": "钱七",
            "phone": "13912340005",
        },
    )
    assert r.status_code == 201, r.text
    moved = await gc.post(
        f"{API}/appointments/{r.json()['manage_token']}/change",
        json={"date": "2026-11-30", "start": "10:00"},
    )
    assert moved.status_code == 201, moved.text
    [contact] = await contacts(gw_app)
    assert contact.phone == "13912340005" and str(contact.business_day) == "2026-11-30"
    async with gw_app.state.core.db.read() as session:
        new = (
            await session.execute(
                select(Appointment).where(Appointment.code == moved.json()["code"])  # type: ignore[arg-type]
            )
        ).scalar_one()
    assert contact.appointment_id == new.id
