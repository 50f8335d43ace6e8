"""Remote tickets (网上取号), not called before they are checked in; the citizen and office
pages of appointments; the admin's settings; every step in the audit record.

The hall clock is a FixedClock moved by the tests (hall time Asia/Shanghai).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.appointments import (
    API,
    at,
    book,
    check_in,
    phone,
    slots,
    take_remote,
)
from tests.support.client import KIOSK, issue, login
from tests.support.settings import SHANGHAI
from window_service.clock import FixedClock
from window_service.housekeeping import mark_missed_appointments


async def test_remote_ticket_is_not_called_before_check_in(
    hc: httpx.AsyncClient, clock: FixedClock
) -> None:
    number = phone()
    r = await take_remote(hc, number)
    assert r.status_code == 201, r.text
    remote = r.json()
    assert remote["status"] == "remote" and remote["remote"] is True and remote["track_token"]
    again = await take_remote(hc, number, "shebao")
    assert again.status_code == 409 and again.json()["error"]["code"] == "remote_ticket_open"
    walk_in = await issue(hc, "hukou")
    assert walk_in["ahead"] == 0  # the unchecked remote ticket is not in the line
    staff = await login(hc, "w1")
    called = (await hc.post(f"{API}/windows/1/call-next", headers=staff)).json()
    assert called["number"] == walk_in["number"]
    assert (
        await hc.post(f"{API}/tickets/{called['id']}/no-show", headers=staff)
    ).status_code == 200
    nothing = await hc.post(f"{API}/windows/1/call-next", headers=staff)
    assert nothing.status_code == 204
    tracked = (await hc.get(f"{API}/track/{remote['track_token']}")).json()
    assert tracked["status"] == "remote"
    clock.advance(minutes=10)
    later = await issue(hc, "hukou")
    r = await hc.post(f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "waiting" and r.json()["queued_at"] == remote["queued_at"]
    assert r.json()["ahead"] == 0
    again = await hc.post(
        f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK
    )
    assert again.status_code == 200
    called = (await hc.post(f"{API}/windows/1/call-next", headers=staff)).json()
    assert called["number"] == remote["number"]  # its queue time kept: before the later ticket
    assert called["number"] < later["number"]


async def test_remote_ticket_expires_with_the_day(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    from window_service.housekeeping import expire_tickets

    remote = (await take_remote(hc, phone())).json()
    clock.set(at("2026-11-27T08:00"))
    await expire_tickets(hall_app.state.core)
    tracked = (await hc.get(f"{API}/track/{remote['track_token']}")).json()
    assert tracked["status"] == "expired"


async def test_remote_ticket_bad_phone_is_422(hc: httpx.AsyncClient) -> None:
    r = await take_remote(hc, "23800000000")
    assert r.status_code == 422


async def test_citizen_pages_render_in_chinese(hc: httpx.AsyncClient) -> None:
    page = await hc.get("/book/demo")
    assert page.status_code == 200 and "网上预约" in page.text and "户籍业务" in page.text
    assert "<script>" not in page.text  # scripts only from files
    assert "30天内爽约3次将暂停预约30天" in page.text
    data = (await book(hc, "2026-11-27", "10:00")).json()
    manage = await hc.get(f"/book/manage/{data['manage_token']}")
    assert manage.status_code == 200
    assert data["code"] in manage.text and "<svg" in manage.text and "取消预约" in manage.text
    assert manage.headers["Cache-Control"] == "no-store"
    assert (await hc.get("/book/manage/" + "x" * 24)).status_code == 404
    assert (await hc.get("/book/nohall")).status_code == 404
    remote = await hc.get("/remote/demo")
    assert remote.status_code == 200 and "网上取号" in remote.text


async def test_remote_check_in_by_the_hall_poster(hc: httpx.AsyncClient, hall_app: Any) -> None:
    from window_service.appointments.remote import poster_code
    from window_service.halls.models import Hall

    remote = (await take_remote(hc, phone())).json()
    r = await hc.post(f"{API}/track/{remote['track_token']}/check-in", json={"poster": "nope"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_poster"
    staff = await login(hc, "w1")
    page = await hc.get("/poster/demo")
    assert page.status_code in (302, 303)  # signed-in staff or admin only
    state = hall_app.state.core
    async with state.db.read() as session:
        from sqlalchemy import select

        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
    code = poster_code(
        state.settings.resolved_secret_key(), hall, state.clock.now().astimezone(SHANGHAI).date()
    )
    r = await hc.post(f"{API}/track/{remote['track_token']}/check-in", json={"poster": code})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "waiting"
    called = (await hc.post(f"{API}/windows/1/call-next", headers=staff)).json()
    assert called["number"] == remote["number"]
    arrive = await hc.get(f"/arrive/demo/{code}")
    assert arrive.status_code == 200 and "网上取号签到" in arrive.text


async def test_office_page_and_poster_need_the_right_sign_in(hc: httpx.AsyncClient) -> None:
    from tests.support.client import page_login

    assert (await hc.get("/office/appointments")).status_code == 303
    await book(hc, "2026-11-26", "11:00")
    await page_login(hc, "office")
    page = await hc.get("/office/appointments", params={"date": "2026-11-26"})
    assert page.status_code == 200 and "预约统计" in page.text
    assert 'id="f-booked">1<' in page.text
    assert (await hc.get("/poster/demo")).status_code == 403
    hc.cookies.clear()
    await page_login(hc, "w1")
    poster = await hc.get("/poster/demo")
    assert poster.status_code == 200 and "<svg" in poster.text
    assert (await hc.get("/office/appointments")).status_code == 403


async def test_admin_sets_slot_length_capacity_and_walk_in_share(hc: httpx.AsyncClient) -> None:
    admin = await login(hc, "admin")
    r = await hc.put(
        f"{API}/halls/demo/services/budongchan/appointment-settings",
        json={"slot_minutes": 60, "capacity": 10},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["bookable_per_slot"] == 5  # half kept for walk-ins
    day = await slots(hc, "2026-11-27", "budongchan")
    assert [s["start"] for s in day] == [f"{h:02d}:00" for h in range(9, 17)]
    assert {s["capacity"] for s in day} == {5}
    r = await hc.put(
        f"{API}/halls/demo/appointment-policy",
        json={"opens": "08:30", "closes": "12:00", "walk_in_percent": 20},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    day = await slots(hc, "2026-11-27", "budongchan")
    assert [s["start"] for s in day] == ["08:30", "09:30", "10:30"]
    assert day[0]["capacity"] == 8
    r = await hc.put(
        f"{API}/halls/demo/appointment-policy",
        json={"opens": "12:00", "closes": "08:00"},
        headers=admin,
    )
    assert r.status_code == 422
    r = await hc.put(
        f"{API}/halls/demo/services/budongchan/appointment-settings",
        json={"enabled": False},
        headers=admin,
    )
    assert await slots(hc, "2026-11-27", "budongchan") == []
    assert (await book(hc, "2026-11-27", "09:00", service="budongchan")).status_code == 422
    staff = await login(hc, "w1")
    r = await hc.put(f"{API}/halls/demo/appointment-policy", json={}, headers=staff)
    assert r.status_code == 403


async def test_settings_page_for_the_admin_only(hc: httpx.AsyncClient) -> None:
    from tests.support.client import page_login

    await page_login(hc, "admin")
    page = await hc.get("/office/appointments/settings")
    assert page.status_code == 200 and "预约设置" in page.text
    assert 'data-service="hukou"' in page.text and 'class="bookable">5<' in page.text
    hc.cookies.clear()
    await page_login(hc, "office")
    assert (await hc.get("/office/appointments/settings")).status_code == 403


async def test_every_step_is_in_the_audit_record(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    from window_service.audit.verify import verify_all

    kept = (await book(hc, "2026-11-26", "11:00")).json()
    dropped = (await book(hc, "2026-11-26", "11:00")).json()
    await hc.post(f"{API}/appointments/{dropped['manage_token']}/cancel")
    missed = (await book(hc, "2026-11-26", "10:30")).json()
    moved = (await book(hc, "2026-11-26", "14:00")).json()
    await hc.post(
        f"{API}/appointments/{moved['manage_token']}/change",
        json={"date": "2026-11-27", "start": "09:00"},
    )
    remote = (await take_remote(hc, phone())).json()
    await hc.post(f"{API}/halls/demo/remote-tickets/{remote['number']}/check-in", headers=KIOSK)
    clock.set(at("2026-11-26T10:45"))
    assert (await check_in(hc, kept["code"])).status_code == 201
    clock.set(at("2026-11-26T11:00"))
    await mark_missed_appointments(hall_app.state.core)
    admin = await login(hc, "admin")
    await hc.put(
        f"{API}/halls/demo/appointment-policy", json={"walk_in_percent": 40}, headers=admin
    )
    await hc.put(
        f"{API}/halls/demo/services/hukou/appointment-settings",
        json={"capacity": 12},
        headers=admin,
    )
    async with hall_app.state.core.db.read() as session:
        assert await verify_all(session) is None
    seen = (await hc.get(f"{API}/appointments/{missed['manage_token']}")).json()
    assert seen["status"] == "no_show"
