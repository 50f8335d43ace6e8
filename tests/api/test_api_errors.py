"""Bad input to the queue API: always the contract's error shape, the right 4xx, never a 500,
and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.support.client import KIOSK, issue, login
from window_service.ledger import AuditRecord
from window_service.queue.models import Ticket

TICKETS = "/api/v1/halls/demo/tickets"


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"].islower()
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


async def stored(app: Any) -> tuple[int, int]:
    async with app.state.core.db.read() as session:
        tickets = (await session.execute(select(func.count()).select_from(Ticket))).scalar_one()
        audits = (await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one()
    return int(tickets), int(audits)


BAD_ISSUES: list[tuple[Any, int, str | None]] = [
    (b"{not json", 422, "invalid_json"),
    (b"\xff\xfe\x00garbage", 422, "invalid_json"),
    (b'["hukou"]', 422, "invalid_input"),
    (b'"hukou"', 422, "invalid_input"),
    (b"null", 422, "invalid_input"),
    ({}, 422, "invalid_input"),
    ({"service": 123}, 422, "invalid_input"),
    ({"service": ["hukou"]}, 422, "invalid_input"),
    ({"service": None}, 422, "invalid_input"),
    ({"service": ""}, 422, "invalid_input"),
    ({"service": "hukou", "priority": "vip"}, 422, "invalid_input"),
    ({"service": "hukou", "priority": 1}, 422, "invalid_input"),
    ({"service": "hukou", "idempotency_key": 42}, 422, "invalid_input"),
    ({"service": "hukou", "idempotency_key": "k" * 129}, 422, "invalid_input"),
    ({"service": "hukou", "number": "A001"}, 422, "invalid_input"),
    ({"service": "hukou", "status": "done"}, 422, "invalid_input"),
    ({"service": "h" * 10_000}, 422, "invalid_input"),
    ({"service": "hukou\x00"}, 422, "invalid_input"),
    ({"service": "hukou", "idempotency_key": "a\x00b"}, 422, "invalid_input"),
    ({"service": "nope"}, 404, "service_not_found"),
    ({"service": "户籍业务"}, 404, "service_not_found"),
    ({"service": "hukou' OR '1'='1"}, 404, "service_not_found"),
    ({"service": "../hukou"}, 404, "service_not_found"),
]


async def test_bad_issue_requests(client: httpx.AsyncClient, app: Any) -> None:
    before = await stored(app)
    for body, status, code in BAD_ISSUES:
        if isinstance(body, bytes):
            r = await client.post(
                TICKETS, content=body, headers={**KIOSK, "Content-Type": "application/json"}
            )
        else:
            r = await client.post(TICKETS, json=body, headers=KIOSK)
        assert_error(r, status, code)
    assert await stored(app) == before
    assert (await issue(client))["number"] == "A001", "no number was used up"


async def test_huge_bodies_are_refused(client: httpx.AsyncClient, app: Any) -> None:
    before = await stored(app)
    huge = b'{"service": "hukou", "idempotency_key": "' + b"x" * (1024 * 1024) + b'"}'
    r = await client.post(
        TICKETS, content=huge, headers={**KIOSK, "Content-Type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")

    async def chunks() -> Any:
        for _ in range(256):
            yield b"x" * 4096

    r = await client.post(
        TICKETS, content=chunks(), headers={**KIOSK, "Content-Type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")
    r = await client.post(TICKETS, content=b"{}", headers={**KIOSK, "Content-Length": "-1"})
    assert r.status_code in (400, 413, 422), r.text
    assert await stored(app) == before


ODD_HALLS = ["nohall", "demo'--", "de mo", "%E5%A4%A7%E5%8E%85", "d" * 300, "demo%00", "DEMO.."]


async def test_unknown_or_odd_hall_codes_are_404(client: httpx.AsyncClient, app: Any) -> None:
    before = await stored(app)
    for hall in ODD_HALLS:
        r = await client.post(
            f"/api/v1/halls/{hall}/tickets", json={"service": "hukou"}, headers=KIOSK
        )
        assert_error(r, 404)
        for view in ("services", "windows"):
            assert_error(await client.get(f"/api/v1/halls/{hall}/{view}"), 404)
    assert await stored(app) == before


async def test_unknown_ids_and_tokens_are_404(client: httpx.AsyncClient, app: Any) -> None:
    before = await stored(app)
    w1 = await login(client, "w1")
    for path in (
        "/windows/999/call-next",
        "/windows/0/pause",
        "/tickets/999999/start",
        "/tickets/999999/cancel",
    ):
        assert_error(await client.post(f"/api/v1{path}", headers=w1), 404)
    assert_error(
        await client.post(
            "/api/v1/tickets/999999/finish", headers=w1, json={"outcome": "completed"}
        ),
        404,
    )
    assert_error(await client.get("/api/v1/tickets/999999", headers=w1), 404)
    assert_error(await client.post("/api/v1/tickets/abc/start", headers=w1), 404)
    assert_error(await client.post(f"/api/v1/windows/{2**70}/call-next", headers=w1), 404)
    assert_error(await client.post("/api/v1/tickets/-1/start", headers=w1), 404)
    for token in ("x" * 24, "short", "a" * 500, "%00" * 10, "' OR 1=1 --aaaaa"):
        assert_error(await client.get(f"/api/v1/track/{token}"), 404)
    assert_error(await client.get("/api/v1/no-such-endpoint"), 404)
    assert await stored(app) == before


async def test_bad_bodies_on_ticket_actions(client: httpx.AsyncClient, app: Any) -> None:
    await issue(client)
    w1 = await login(client, "w1")
    called = (await client.post("/api/v1/windows/1/call-next", headers=w1)).json()
    await client.post(f"/api/v1/tickets/{called['id']}/start", headers=w1)
    before = await stored(app)
    finish = f"/api/v1/tickets/{called['id']}/finish"
    for body in (
        {},
        {"outcome": "great"},
        {"outcome": 1},
        {"outcome": "completed", "extra": True},
        {"outcome": "completed\x00"},
    ):
        assert_error(await client.post(finish, headers=w1, json=body), 422)
    assert_error(
        await client.post(
            finish,
            headers=w1,
            content=b"{oops",
        ),
        422,
    )
    transfer = f"/api/v1/tickets/{called['id']}/transfer"
    assert_error(
        await client.post(transfer, headers=w1, json={"service": "nope"}), 404, "service_not_found"
    )
    assert_error(await client.post(transfer, headers=w1, json={"service": "q" * 10_000}), 422)
    assert_error(await client.post(transfer, headers=w1, json={}), 422)
    assert await stored(app) == before
    ticket = (await client.get(f"/api/v1/tickets/{called['id']}", headers=w1)).json()
    assert ticket["status"] == "serving" and ticket["service"] == "hukou"


async def test_wrong_methods_and_credentials_keep_the_error_shape(
    client: httpx.AsyncClient,
) -> None:
    assert_error(await client.get(TICKETS, headers=KIOSK), 405)
    assert_error(
        await client.post(
            "/api/v1/auth/token", json={"username": "w1", "password": "wrong-password"}
        ),
        401,
    )
    assert_error(await client.post("/api/v1/auth/token", json={"username": "w1"}), 422)
    assert_error(
        await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x" * 10}),
        401,
    )
    assert_error(
        await client.post("/api/v1/windows/1/call-next", headers={"Authorization": "Bearer"}), 401
    )
    assert_error(
        await client.post("/api/v1/windows/1/call-next", headers={"X-Device-Key": "k" * 1000}), 401
    )
