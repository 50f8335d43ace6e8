"""Appointments (预约): slots on the official calendar, booking under concurrency, one per
phone, cancel and change, check-in on time / early / late, the no-show block, the terminal's
list and the office's figures (remote tickets: ``test_remote_tickets.py``).

The hall clock is a FixedClock moved by the tests (hall time Asia/Shanghai).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.appointments import (
    API,
    at,
    book,
    check_in,
    lift_address_limit,
    phone,
    slots,
)
from tests.support.client import issue, login
from window_service.clock import FixedClock
from window_service.housekeeping import mark_missed_appointments


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
