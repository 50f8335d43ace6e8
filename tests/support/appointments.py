"""Helpers of the appointment tests: phones, hall times, slots, booking, check-in, remote tickets."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import httpx

from tests.support.client import KIOSK, login
from tests.support.settings import SHANGHAI

API = "/api/v1"
_phones = itertools.count(13800000000)


def phone() -> str:
    return str(next(_phones))


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


async def check_in(c: httpx.AsyncClient, code: str) -> httpx.Response:
    return await c.post(f"{API}/halls/demo/appointments/{code}/check-in", headers=KIOSK)


async def take_remote(c: httpx.AsyncClient, number: str, service: str = "hukou") -> httpx.Response:
    return await c.post(
        f"{API}/halls/demo/remote-tickets", json={"service": service, "phone": number}
    )
