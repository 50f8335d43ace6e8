"""Helpers of the trust tests: a day's tickets through the kiosk and the windows, the pad's
key, and sockets drained up to an event."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import KIOSK
from tests.support.dbs import KIOSK_KEY
from tests.support.realtime import Display
from window_service.seed import pad_key


def pad(window: int) -> dict[str, str]:
    return {"X-Device-Key": pad_key(KIOSK_KEY, window)}


async def window_ids(http: httpx.AsyncClient) -> dict[int, int]:
    return {w["number"]: w["id"] for w in (await http.get("/api/v1/halls/demo/windows")).json()}


async def take(http: httpx.AsyncClient, service: str) -> dict[str, Any]:
    r = await http.post("/api/v1/halls/demo/tickets", json={"service": service}, headers=KIOSK)
    assert r.status_code == 201, r.text
    assert r.json()["track_token"] and r.json()["track_url"]  # the kiosk prints the QR
    return dict(r.json())


async def ok(response: Any, *statuses: int) -> dict[str, Any]:
    r = await response
    assert r.status_code in (statuses or (200,)), r.text
    return dict(r.json()) if r.content else {}


async def serve_one(
    http: httpx.AsyncClient, headers: dict[str, str], window_id: int, *, outcome: str = "completed"
) -> dict[str, Any]:
    called = await ok(http.post(f"/api/v1/windows/{window_id}/call-next", headers=headers))
    await ok(http.post(f"/api/v1/tickets/{called['id']}/start", headers=headers))
    await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/finish", json={"outcome": outcome}, headers=headers
        )
    )
    return called


async def drain(sockets: dict[str, Display], last: int) -> None:
    for d in sockets.values():
        if not d.received or d.received[-1]["seq"] < last:
            # Generous: the day's events reach every socket in order, even on a busy machine.
            await d.until(lambda m: m["seq"] >= last, within=120)
