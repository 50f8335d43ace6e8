"""The pages of the supervisors and of the democratic evaluation, by role: a supervisor lands
on /supervise and sees their observations and the ballot link when on the panel; the office
page and the report are the office's; a wrong ballot link is a 404 page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import login, page_login
from tests.support.supervisors import SUPERVISOR_PASSWORD, add_supervisor


async def test_pages_by_role(app: Any, client: httpx.AsyncClient) -> None:
    await add_supervisor(app, "jd-li")
    office = await login(client, "office")
    r = await client.post(
        "/api/v1/halls/demo/evaluation/members",
        json={"year": 2026, "name": "李监督", "category": "supervisor", "username": "jd-li"},
        headers=office,
    )
    assert r.status_code == 201, r.text
    me = await login(client, "jd-li", SUPERVISOR_PASSWORD)
    r = await client.post(
        "/api/v1/halls/demo/supervision/observations",
        json={"window": 1, "rating": 2, "comment": "窗口前无引导"},
        headers=me,
    )
    assert r.status_code == 201, r.text

    signed = await page_login(client, "jd-li", SUPERVISOR_PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/supervise"
    page = await client.get("/supervise")
    assert page.status_code == 200
    assert "监督员工作台" in page.text and "窗口前无引导" in page.text and "待核实" in page.text
    assert (await client.get("/office/evaluation")).status_code == 403
    assert (await client.get("/office")).status_code in (200, 403)
    client.cookies.clear()

    assert (await page_login(client, "office")).status_code == 303
    page = await client.get("/office/evaluation")
    assert page.status_code == 200 and "李监督" in page.text
    assert (await client.get("/office/evaluation/1/print")).status_code == 404
    assert (await client.get("/office/evaluation?year=abc")).status_code == 200
    assert (await client.get("/supervise")).status_code == 403
    client.cookies.clear()

    assert (await client.get("/ballot/" + "x" * 32)).status_code == 404
    english = await client.get("/ballot/" + "x" * 32 + "?lang=en")
    assert "Unknown ballot link" in english.text
