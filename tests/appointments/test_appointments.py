"""Appointments (预约) and remote tickets (网上取号): slots on the official calendar, booking
under concurrency, one per phone, cancel, check-in on time / early / late, the no-show block,
and remote tickets that are not called before they are checked in.

The hall clock is a FixedClock moved by the tests (hall time Asia/Shanghai).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.client import KIOSK, issue, login
from tests.support.settings import SHANGHAI
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.config import Settings
from window_service.housekeeping import mark_missed_appointments

API = "/api/v1"
_phones = itertools.count(13800000000)


def phone() -> str:
    return str(next(_phones))


@pytest.fixture
async def hall_app(settings: Settings, clock: FixedClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock, run_housekeeping=False)
    yield application
    await application.state.core.db.dispose()


@pytest.fixture
async def hc(hall_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hall_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def slots(c: httpx.AsyncClient, day: str, service: str = "hukou") -> list[dict[str, Any]]:
    r = await c.get(f"{API}/halls/demo/services/{service}/slots", params={"date": day})
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


async def book(
    c: httpx.AsyncClient, day: str, start: str, *, service: str = "hukou", **over: Any
) -> httpx.Response:
    body = {"service": service, "date": day, "start": start, "name": "张三", "phone": phone()}
    body.update(over)
    return await c.post(f"{API}/halls/demo/appointments", json=body)


async def lift_address_limit(c: httpx.AsyncClient) -> None:
    admin = await login(c, "admin")
    r = await c.put(
        f"{API}/halls/demo/appointment-policy",
        json={"bookings_per_address_hour": 10000},
        headers=admin,
    )
    assert r.status_code == 200, r.text


async def test_slots_follow_national_day_2026(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    clock.set(at("2026-09-15T10:00"))
    workday = await slots(hc, "2026-09-30")
    assert [s["start"] for s in workday][:2] == ["09:00", "09:30"]
    assert workday[-1] == {"start": "16:30", "end": "17:00", "capacity": 5, "available": 5}
    assert len(workday) == 16
    for holiday in ("2026-10-01", "2026-10-05", "2026-10-07", "2026-10-11"):
        assert await slots(hc, holiday) == [], holiday
    for makeup in ("2026-09-20", "2026-10-10"):  # 调休: Sunday and Saturday are working days
        assert len(await slots(hc, makeup)) == 16, makeup
    assert len(await slots(hc, "2026-10-08")) == 16


async def test_slots_follow_spring_festival_2026(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    clock.set(at("2026-02-02T10:00"))
    for holiday in ("2026-02-15", "2026-02-16", "2026-02-20", "2026-02-23"):
        assert await slots(hc, holiday) == [], holiday
    for makeup in ("2026-02-14", "2026-02-28"):
        assert len(await slots(hc, makeup)) == 16, makeup
    assert len(await slots(hc, "2026-02-24")) == 16
    r = await book(hc, "2026-02-16", "09:00")
    assert r.status_code == 422, r.text
    r = await book(hc, "2026-02-14", "09:00")
    assert r.status_code == 201, r.text


async def test_booking_answer_and_one_per_phone(hc: httpx.AsyncClient) -> None:
    number = phone()
    r = await book(hc, "2026-11-27", "10:00", phone=number)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["service"] == "hukou" and data["date"] == "2026-11-27"
    assert (data["start"], data["end"], data["status"]) == ("10:00", "10:30", "booked")
    assert len(data["code"]) == 8 and data["manage_token"]
    assert data["phone"] == f"{number[:3]}****{number[-4:]}"
    again = await book(hc, "2026-11-27", "14:00", phone=number)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "already_booked"
    other_service = await book(hc, "2026-11-27", "14:00", phone=number, service="shebao")
    assert other_service.status_code == 201
    other_day = await book(hc, "2026-11-30", "14:00", phone=number)
    assert other_day.status_code == 201
    left = {s["start"]: s["available"] for s in await slots(hc, "2026-11-27")}
    assert left["10:00"] == 4 and left["14:00"] == 5


@pytest.mark.parametrize(
    ("day", "start", "phone_number", "code"),
    [
        ("2026-11-26", "09:30", None, "slot_past"),  # the clock stands at 10:00
        ("2026-11-26", "10:00", None, "slot_past"),
        ("2026-11-28", "10:00", None, "day_not_bookable"),  # Saturday
        ("2026-11-27", "10:15", None, "unknown_slot"),
        ("2026-11-27", "17:00", None, "unknown_slot"),
        ("2026-11-27", "10:00", "12345678901", "invalid_phone"),
        ("2026-11-27", "10:00", "1380013800", "invalid_phone"),
    ],
)
async def test_bad_bookings_are_422(
    hc: httpx.AsyncClient, day: str, start: str, phone_number: str | None, code: str
) -> None:
    r = await book(hc, day, start, phone=phone_number or phone())
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code


async def test_bad_input_is_422_not_500(hc: httpx.AsyncClient) -> None:
    r = await hc.get(f"{API}/halls/demo/services/hukou/slots", params={"date": "2026-13-01"})
    assert r.status_code == 422
    r = await hc.post(f"{API}/halls/demo/appointments", json={"service": "hukou"})
    assert r.status_code == 422
    r = await book(hc, "2026-11-27", "25:00")
    assert r.status_code == 422
    r = await book(hc, "2026-11-27", "10:00", name="   ")
    assert r.status_code == 422
    r = await book(hc, "2026-11-27", "10:00", service="nope")
    assert r.status_code == 404
    r = await hc.post(f"{API}/appointments/nonsense/cancel")
    assert r.status_code == 404


async def test_64_concurrent_bookings_fill_a_slot_of_5(hc: httpx.AsyncClient) -> None:
    await lift_address_limit(hc)
    answers = await asyncio.gather(*(book(hc, "2026-11-27", "10:00") for _ in range(64)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(201) == 5, statuses
    assert statuses.count(409) == 59, statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"slot_full"}
    left = {s["start"]: s["available"] for s in await slots(hc, "2026-11-27")}
    assert left["10:00"] == 0


async def test_one_phone_racing_itself_gets_one_booking(hc: httpx.AsyncClient) -> None:
    number = phone()
    answers = await asyncio.gather(
        *(book(hc, "2026-11-27", start, phone=number) for start in ("09:00", "10:00", "11:00"))
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409]


async def test_cancel_frees_the_seat(hc: httpx.AsyncClient) -> None:
    await lift_address_limit(hc)
    booked = [await book(hc, "2026-11-27", "11:00") for _ in range(5)]
    assert all(r.status_code == 201 for r in booked)
    full = await book(hc, "2026-11-27", "11:00")
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    token = booked[0].json()["manage_token"]
    r = await hc.post(f"{API}/appointments/{token}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = await hc.post(f"{API}/appointments/{token}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    left = {s["start"]: s["available"] for s in await slots(hc, "2026-11-27")}
    assert left["11:00"] == 1
    assert (await book(hc, "2026-11-27", "11:00")).status_code == 201


async def test_change_moves_the_booking(hc: httpx.AsyncClient) -> None:
    first = (await book(hc, "2026-11-27", "11:00")).json()
    r = await hc.post(
        f"{API}/appointments/{first['manage_token']}/change",
        json={"date": "2026-11-27", "start": "15:00"},
    )
    assert r.status_code == 201, r.text
    moved = r.json()
    assert moved["start"] == "15:00" and moved["code"] != first["code"]
    old = await hc.get(f"{API}/appointments/{first['manage_token']}")
    assert old.json()["status"] == "cancelled"
    left = {s["start"]: s["available"] for s in await slots(hc, "2026-11-27")}
    assert (left["11:00"], left["15:00"]) == (5, 4)


async def check_in(c: httpx.AsyncClient, code: str) -> httpx.Response:
    return await c.post(f"{API}/halls/demo/appointments/{code}/check-in", headers=KIOSK)


async def test_on_time_check_in_is_called_first(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    appt = (await book(hc, "2026-11-26", "11:00")).json()
    walk_ins = [await issue(hc, "hukou") for _ in range(3)]
    clock.set(at("2026-11-26T10:35"))
    r = await check_in(hc, appt["code"])
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["priority"] == "appointment" and ticket["service"] == "hukou"
    assert ticket["track_token"] and ticket["track_url"]
    assert ticket["ahead"] == 0
    again = await check_in(hc, appt["code"])
    assert again.status_code == 200 and again.json()["id"] == ticket["id"]
    staff = await login(hc, "w1")
    called = await hc.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.status_code == 200 and called.json()["number"] == ticket["number"]
    assert ticket["number"] > walk_ins[-1]["number"]  # numbered after them, called before
    seen = await hc.get(f"{API}/appointments/{appt['manage_token']}")
    assert seen.json()["status"] == "checked_in" and seen.json()["ticket"] == ticket["number"]


async def test_early_and_late_check_in(hc: httpx.AsyncClient, clock: FixedClock) -> None:
    appt = (await book(hc, "2026-11-26", "14:00")).json()
    clock.set(at("2026-11-26T13:29"))
    early = await check_in(hc, appt["code"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    clock.set(at("2026-11-26T13:30"))
    lower = (await book(hc, "2026-11-26", "14:00")).json()
    assert (await check_in(hc, lower["code"])).json()["priority"] == "appointment"
    clock.set(at("2026-11-26T14:16"))
    late = await check_in(hc, appt["code"])
    assert late.status_code == 201 and late.json()["priority"] is None
    upper = (await book(hc, "2026-11-26", "16:00")).json()
    clock.set(at("2026-11-26T16:15"))
    assert (await check_in(hc, upper["code"])).json()["priority"] == "appointment"
    missed = (await book(hc, "2026-11-26", "16:30")).json()
    clock.set(at("2026-11-26T17:00"))
    gone = await check_in(hc, missed["code"])
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "appointment_missed"
    tomorrow = (await book(hc, "2026-11-27", "09:00")).json()
    r = await check_in(hc, tomorrow["code"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_today"
    assert (await check_in(hc, "00000000")).status_code == 404
    assert (
        await hc.post(f"{API}/halls/demo/appointments/{appt['code']}/check-in")
    ).status_code == 401


async def test_three_no_shows_block_booking(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    number = phone()
    for service in ("hukou", "budongchan", "qiye"):
        r = await book(hc, "2026-11-26", "10:30", service=service, phone=number)
        assert r.status_code == 201, r.text
    clock.set(at("2026-11-26T11:00"))
    await mark_missed_appointments(hall_app.state.core)
    r = await book(hc, "2026-11-27", "10:00", phone=number)
    assert r.status_code == 409 and r.json()["error"]["code"] == "booking_blocked"
    assert (await book(hc, "2026-11-27", "10:00")).status_code == 201  # another phone
    clock.set(at("2026-12-28T10:00"))
    assert (await book(hc, "2026-12-28", "14:00", phone=number)).status_code == 201


async def test_two_no_shows_do_not_block(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    number = phone()
    for service in ("hukou", "budongchan"):
        assert (
            await book(hc, "2026-11-26", "10:30", service=service, phone=number)
        ).status_code == 201
    clock.set(at("2026-11-26T11:00"))
    await mark_missed_appointments(hall_app.state.core)
    assert (await book(hc, "2026-11-27", "10:00", phone=number)).status_code == 201


async def test_booking_is_rate_limited_per_phone_and_address(hc: httpx.AsyncClient) -> None:
    number = phone()
    days = ["2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    for day in days:
        assert (await book(hc, day, "10:00", phone=number)).status_code == 201
    r = await book(hc, "2026-12-04", "10:00", phone=number)
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_bookings"
    starts = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)][:15]
    for start in starts:  # 5 + 15 = 20 from this address within the hour
        assert (await book(hc, "2026-11-27", start, service="shebao")).status_code == 201
    r = await book(hc, "2026-12-04", "10:00")
    assert r.status_code == 429


async def test_terminal_lists_upcoming_bookings_masked(hc: httpx.AsyncClient) -> None:
    number = phone()
    await book(hc, "2026-11-26", "11:00", phone=number, name="欧阳修")
    await book(hc, "2026-11-26", "11:00", service="shebao")
    staff = await login(hc, "w1")
    r = await hc.get(f"{API}/windows/1/appointments", headers=staff)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(x["service"], x["start"], x["name"]) for x in rows] == [("hukou", "11:00", "欧**")]
    assert rows[0]["phone"] == f"{number[:3]}****{number[-4:]}"
    other = await hc.get(f"{API}/windows/2/appointments", headers=staff)
    assert other.status_code == 403
    assert (await hc.get(f"{API}/windows/1/appointments")).status_code == 401


async def test_office_statistics(hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock) -> None:
    come = (await book(hc, "2026-11-26", "10:30")).json()
    await book(hc, "2026-11-26", "10:30")
    cancelled = (await book(hc, "2026-11-26", "11:00")).json()
    await hc.post(f"{API}/appointments/{cancelled['manage_token']}/cancel")
    walk_in = await issue(hc, "hukou")
    clock.set(at("2026-11-26T10:20"))
    await check_in(hc, come["code"])
    clock.set(at("2026-11-26T10:30"))
    staff = await login(hc, "w1")
    first = (await hc.post(f"{API}/windows/1/call-next", headers=staff)).json()
    assert first["priority"] == "appointment"
    staff2 = await login(hc, "w2")
    second = (await hc.post(f"{API}/windows/2/call-next", headers=staff2)).json()
    assert second["number"] == walk_in["number"]
    clock.set(at("2026-11-26T11:00"))
    await mark_missed_appointments(hall_app.state.core)
    office = await login(hc, "office")
    r = await hc.get(
        f"{API}/halls/demo/appointments/stats", params={"date": "2026-11-26"}, headers=office
    )
    assert r.status_code == 200, r.text
    stats = r.json()
    assert (stats["booked"], stats["cancelled"], stats["checked_in"], stats["no_shows"]) == (
        2,
        1,
        1,
        1,
    )
    assert stats["checked_in_on_time"] == 1
    assert stats["average_wait_booked_minutes"] == 10.0
    assert stats["average_wait_walk_in_minutes"] == 30.0
    assert (
        await hc.get(
            f"{API}/halls/demo/appointments/stats", params={"date": "2026-11-26"}, headers=staff
        )
    ).status_code == 403


async def take_remote(c: httpx.AsyncClient, number: str, service: str = "hukou") -> httpx.Response:
    return await c.post(
        f"{API}/halls/demo/remote-tickets", json={"service": service, "phone": number}
    )


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
