"""Calls the API tests make over and over: a signed-in account (bearer, or the sign-in page's
form with its CSRF token), a kiosk ticket."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.dbs import DEMO_PASSWORD, KIOSK_KEY

KIOSK = {"X-Device-Key": KIOSK_KEY}


async def login(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> dict[str, str]:
    """Bearer headers for a demo account."""
    response = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def issue(client: httpx.AsyncClient, service: str = "hukou", **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/halls/demo/tickets", json={"service": service, **body}, headers=KIOSK
    )
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def page_login(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
