"""Staff steps the queue tests take over and over: call, act on a ticket, read an error."""

from __future__ import annotations

from typing import Any

import httpx

API = "/api/v1"


async def post(
    c: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    return await c.post(f"{API}{path}", headers=headers, json=body)


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


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return str(body["error"]["code"])
