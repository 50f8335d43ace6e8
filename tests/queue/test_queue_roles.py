"""Who may do what in the queue: deny by default, own window, own hall."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.support.client import KIOSK, issue, login
from tests.support.other_hall import OTHER_KIOSK, OTHER_PASSWORD, add_other_hall
from window_service.queue.models import Ticket


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return str(body["error"]["code"])


async def ticket_count(app: Any) -> int:
    async with app.state.core.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Ticket))).scalar_one())


async def test_issuing_needs_a_kiosk_or_staff(client: httpx.AsyncClient, app: Any) -> None:
    body = {"service": "hukou"}
    r = await client.post("/api/v1/halls/demo/tickets", json=body)
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    r = await client.post(
        "/api/v1/halls/demo/tickets", json=body, headers={"X-Device-Key": "not-the-key-0000000000"}
    )
    assert r.status_code == 401 and error_code(r) == "invalid_device_key"
    r = await client.post(
        "/api/v1/halls/demo/tickets",
        json=body,
        headers={"Authorization": "Bearer forged.token.value"},
    )
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/halls/demo/tickets", json=body, headers={"Authorization": "Basic dzE6eA=="}
    )
    assert r.status_code == 401
    assert await ticket_count(app) == 0
    # Window staff may issue (e.g. for a citizen at the counter).
    w1 = await login(client, "w1")
    r = await client.post("/api/v1/halls/demo/tickets", json=body, headers=w1)
    assert r.status_code == 201 and r.json()["number"] == "A001"


async def test_kiosk_issues_but_cannot_work_a_window(client: httpx.AsyncClient) -> None:
    ticket = await issue(client)
    for path in (
        "/windows/1/call-next",
        "/windows/1/recall",
        "/windows/1/pause",
        f"/tickets/{ticket['id']}/cancel",
    ):
        r = await client.post(f"/api/v1{path}", headers=KIOSK)
        assert r.status_code == 403 and error_code(r) == "forbidden", (path, r.text)
    r = await client.post("/api/v1/windows/1/call-next")
    assert r.status_code == 401


async def test_staff_work_only_their_own_window(client: httpx.AsyncClient) -> None:
    await issue(client)
    await issue(client)
    w1, w2 = await login(client, "w1"), await login(client, "w2")
    for path in ("/windows/1/call-next", "/windows/1/pause", "/windows/1/recall"):
        r = await client.post(f"/api/v1{path}", headers=w2)
        assert r.status_code == 403 and error_code(r) == "forbidden", path
    r = await client.get("/api/v1/windows/1/queue", headers=w2)
    assert r.status_code == 403
    called = (await client.post("/api/v1/windows/1/call-next", headers=w1)).json()
    assert called["number"] == "A001"
    # w2 cannot act on the ticket window 1 is handling.
    for action, body in [
        ("start", None),
        ("no-show", None),
        ("return", None),
        ("cancel", None),
        ("transfer", {"service": "qiye"}),
    ]:
        r = await client.post(f"/api/v1/tickets/{called['id']}/{action}", headers=w2, json=body)
        assert r.status_code == 403, (action, r.text)
    await client.post(f"/api/v1/tickets/{called['id']}/start", headers=w1)
    r = await client.post(
        f"/api/v1/tickets/{called['id']}/finish", headers=w2, json={"outcome": "completed"}
    )
    assert r.status_code == 403
    status = (await client.get(f"/api/v1/tickets/{called['id']}", headers=w1)).json()["status"]
    assert status == "serving", "the refused calls changed nothing"
    # w2 calls at their own window: A002.
    r = await client.post("/api/v1/windows/2/call-next", headers=w2)
    assert r.status_code == 200 and r.json()["number"] == "A002"


async def test_office_roles_cannot_call(client: httpx.AsyncClient) -> None:
    await issue(client)
    for username in ("office", "head", "admin"):
        headers = await login(client, username)
        for path in ("/windows/1/call-next", "/windows/1/recall", "/windows/1/pause"):
            r = await client.post(f"/api/v1{path}", headers=headers)
            assert r.status_code == 403, (username, path, r.text)
    services = {s["code"]: s for s in (await client.get("/api/v1/halls/demo/services")).json()}
    assert services["hukou"]["waiting"] == 1


async def test_another_halls_principals_are_refused(client: httpx.AsyncClient, app: Any) -> None:
    await add_other_hall(app)
    demo_ticket = await issue(client)
    # The other hall's kiosk works in its own hall …
    r = await client.post(
        "/api/v1/halls/other/tickets", json={"service": "hukou"}, headers=OTHER_KIOSK
    )
    assert r.status_code == 201 and r.json()["number"] == "A001"
    other_ticket = r.json()
    # … but not in ours, and ours not in theirs.
    r = await client.post(
        "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=OTHER_KIOSK
    )
    assert r.status_code == 403 and error_code(r) == "forbidden"
    r = await client.post("/api/v1/halls/other/tickets", json={"service": "hukou"}, headers=KIOSK)
    assert r.status_code == 403
    o1 = await login(client, "o1", OTHER_PASSWORD)
    demo_window_1 = 1
    r = await client.post(f"/api/v1/windows/{demo_window_1}/call-next", headers=o1)
    assert r.status_code == 403
    for action in ("cancel", "start"):
        r = await client.post(f"/api/v1/tickets/{demo_ticket['id']}/{action}", headers=o1)
        assert r.status_code == 403, (action, r.text)
    r = await client.get(f"/api/v1/tickets/{demo_ticket['id']}", headers=o1)
    assert r.status_code == 403
    admin = await login(client, "admin")
    r = await client.post(f"/api/v1/tickets/{other_ticket['id']}/cancel", headers=admin)
    assert r.status_code == 403
    w1 = await login(client, "w1")
    r = await client.post(
        f"/api/v1/tickets/{other_ticket['id']}/transfer", headers=w1, json={"service": "hukou"}
    )
    assert r.status_code == 403
    # Each hall's numbers are its own.
    assert (await issue(client))["number"] == "A002"
    assert await ticket_count(app) == 3
