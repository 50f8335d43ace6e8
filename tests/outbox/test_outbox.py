"""Delivery to an outside 好差评 platform through the outbox: at least once, in order per hall,
retried with back-off, signed, with a visible backlog; nothing leaves without configuration.

The platform is a real HTTP server on a free local port that fails and recovers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.cases import at, client_for
from tests.support.client import login
from tests.support.ratings import rate, serve
from tests.support.server import start_server
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.outbox.delivery import Deliverer

SECRET = "platform-shared-secret"


class Platform:
    """A 好差评 platform that can fail: ``fail_next`` requests get a 500 before anything is
    stored; ``lose_answers`` requests are stored and then answered 500 (the answer is lost).
    It keeps each message once, by its idempotency key."""

    def __init__(self) -> None:
        self.fail_next = 0
        self.lose_answers = 0
        self.requests: list[str] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.bad_signatures = 0
        self.url = ""

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        key = request.headers["x-delivery-id"]
        self.requests.append(key)
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"error": "维护中"}, status_code=500)
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-signature-256", "")):
            self.bad_signatures += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if key not in self.stored:
            self.stored[key] = json.loads(raw)
            self.order.append(key)
        if self.lose_answers:
            self.lose_answers -= 1
            return JSONResponse({"error": "timeout"}, status_code=502)
        return JSONResponse({"ok": True})


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    receiver = Platform()
    app = Starlette(routes=[Route("/ratings", receiver.receive, methods=["POST"])])
    # The socket listens before the server runs: connections wait in its backlog.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/ratings"
    yield receiver
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(2026, 11, 26, 10))


def hall_app(db_url: str, tmp_path: Path, clock: FixedClock, url: str) -> Any:
    settings = make_settings(db_url, tmp_path, platform_url=url, platform_secret=SECRET)
    return create_app(settings, clock=clock, run_housekeeping=False)


async def rated_tickets(c: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Three rated services: a 5, a 4 on a ticket that opened a case, a 1 (opens a rectification)."""
    first = await serve(c)
    assert (await rate(c, first["track_token"], 5)).status_code == 201
    second = await serve(c, "budongchan", 3, outcome="accepted")
    assert (await rate(c, second["track_token"], 4, tags=[])).status_code == 201
    third = await serve(c, "qiye", 5)
    assert (await rate(c, third["track_token"], 1, comment="态度差")).status_code == 201
    return [first, second, third]


async def test_a_failing_platform_gets_everything_once_in_order(
    db_url: str, tmp_path: Path, clock: FixedClock, platform: Platform
) -> None:
    app = hall_app(db_url, tmp_path, clock, platform.url)
    deliverer = Deliverer(app.state.core)
    try:
        async with client_for(app) as c:
            await rated_tickets(c)
            office = await login(c, "office")
            backlog = (await c.get("/api/v1/platform-outbox", headers=office)).json()
            assert backlog["configured"] and backlog["signed"]
            assert backlog["pending"] == 4
            assert [w["kind"] for w in backlog["waiting"]] == ["rating"] * 3 + ["rectification"]

            # The platform is down: the first message fails and nothing overtakes it.
            platform.fail_next = 2
            assert await deliverer.run_once() == 0
            assert platform.requests == ["demo-1"]
            backlog = (await c.get("/api/v1/platform-outbox", headers=office)).json()
            assert backlog["pending"] == 4 and backlog["last_error"].startswith("HTTP 500")
            assert backlog["waiting"][0]["attempts"] == 1
            page = (await c.get("/office/openness", headers=office)).text
            assert 'id="backlog-pending">4<' in page and "最近一次推送失败" in page
            # Back-off: not retried before its time, then 5 s, then 10 s.
            assert await deliverer.run_once() == 0
            assert platform.requests == ["demo-1"]
            clock.advance(seconds=5)
            assert await deliverer.run_once() == 0
            assert platform.requests == ["demo-1", "demo-1"]
            clock.advance(seconds=9)
            assert await deliverer.run_once() == 0
            assert len(platform.requests) == 2
            clock.advance(seconds=1)
            # Recovered: everything goes, in order.
            assert await deliverer.run_once() == 4
            assert platform.order == ["demo-1", "demo-2", "demo-3", "demo-4"]
            backlog = (await c.get("/api/v1/platform-outbox", headers=office)).json()
            assert backlog["pending"] == 0 and backlog["delivered"] == 4
            assert backlog["last_error"] == ""

            # The platform stores a message but its answer is lost: sent again, kept once.
            head = await login(c, "head")
            rect = (await c.get("/api/v1/rectifications", headers=head)).json()[0]
            r = await c.post(
                f"/api/v1/rectifications/{rect['id']}/verify",
                json={"finding": "属实", "substantiated": True},
                headers=head,
            )
            assert r.status_code == 200, r.text
            platform.lose_answers = 1
            assert await deliverer.run_once() == 0
            clock.advance(seconds=5)
            assert await deliverer.run_once() == 1
            assert platform.requests[-2:] == ["demo-5", "demo-5"]
            assert platform.order == ["demo-1", "demo-2", "demo-3", "demo-4", "demo-5"]
            assert platform.bad_signatures == 0
            assert await deliverer.run_once() == 0  # nothing twice once delivered

        # What the platform got: rating, channel, service, the case's receipt number, the
        # rectification; never the citizen's contact or the rating token.
        ratings = [platform.stored[f"demo-{n}"] for n in (1, 2, 3)]
        assert [(m["type"], m["level"], m["channel"], m["service"]) for m in ratings] == [
            ("rating", 5, "phone", "hukou"),
            ("rating", 4, "phone", "budongchan"),
            ("rating", 1, "phone", "qiye"),
        ]
        assert ratings[0]["receipt_no"] is None
        assert ratings[1]["receipt_no"] is None  # finished as accepted, but no case opened
        opened, verified = platform.stored["demo-4"], platform.stored["demo-5"]
        assert opened["type"] == "rectification" and opened["change"] == "opened"
        assert opened["rating_id"] == ratings[2]["rating_id"]
        assert verified["change"] == "verified" and verified["substantiated"] is True
        text = json.dumps(platform.stored, ensure_ascii=False)
        assert "track_token" not in text and "contact" not in text
    finally:
        await deliverer.close()
        await app.state.core.db.dispose()


async def test_the_receipt_number_of_the_rated_case_goes_along(
    db_url: str, tmp_path: Path, clock: FixedClock, platform: Platform
) -> None:
    from tests.support.cases import serving

    app = hall_app(db_url, tmp_path, clock, platform.url)
    deliverer = Deliverer(app.state.core)
    try:
        async with client_for(app) as c:
            ticket, w1 = await serving(c)
            case = await c.post(
                f"/api/v1/tickets/{ticket['id']}/case",
                json={"applicant_name": "张三", "applicant_phone": "13800138000"},
                headers=w1,
            )
            assert case.status_code == 201
            done = await c.post(
                f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "accepted"}, headers=w1
            )
            assert done.status_code == 200
            assert (await rate(c, ticket["track_token"], 5)).status_code == 201
            assert await deliverer.run_once() == 1
        message = platform.stored["demo-1"]
        assert message["receipt_no"] == case.json()["receipt_no"]
        assert "张三" not in json.dumps(message, ensure_ascii=False)
        assert "13800138000" not in json.dumps(message)
    finally:
        await deliverer.close()
        await app.state.core.db.dispose()


async def test_nothing_leaves_without_configuration(
    db_url: str, tmp_path: Path, clock: FixedClock, platform: Platform
) -> None:
    app = hall_app(db_url, tmp_path, clock, "")
    deliverer = Deliverer(app.state.core)
    try:
        async with client_for(app) as c:
            await rated_tickets(c)
            assert await deliverer.run_once() == 0
            backlog = await c.get("/api/v1/platform-outbox", headers=await login(c, "admin"))
            assert backlog.json()["configured"] is False
            # Kept for when the platform is configured: the hall never types a rating twice.
            assert backlog.json()["pending"] == 4
            assert (
                await c.get("/api/v1/platform-outbox", headers=await login(c, "w1"))
            ).status_code == 403
        assert platform.requests == []
    finally:
        await deliverer.close()
        await app.state.core.db.dispose()


async def test_one_process_delivers_a_hall_at_a_time(
    db_url: str, tmp_path: Path, clock: FixedClock, platform: Platform
) -> None:
    app = hall_app(db_url, tmp_path, clock, platform.url)
    first = Deliverer(app.state.core, owner="serve-1")
    second = Deliverer(app.state.core, owner="serve-2")
    try:
        async with client_for(app) as c:
            await rated_tickets(c)
            metrics = (await c.get("/metrics")).text
            assert 'window_service_platform_outbox_pending{hall="demo"} 4.0' in metrics
        hall_id = 1
        # serve-1 holds the hall's lease (it is sending): serve-2 leaves the hall alone.
        assert await first._lease(hall_id)
        assert await second.run_once() == 0
        assert platform.requests == []
        # A lease its holder no longer renews (the process died) runs out and is taken over.
        clock.advance(seconds=61)
        assert await second.run_once() == 4
        assert platform.order == ["demo-1", "demo-2", "demo-3", "demo-4"]
        assert await first.run_once() == 0
        assert len(platform.requests) == 4
        async with client_for(app) as c:
            metrics = (await c.get("/metrics")).text
            assert 'window_service_platform_outbox_pending{hall="demo"} 0.0' in metrics
    finally:
        await first.close()
        await second.close()
        await app.state.core.db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_serve_delivers_in_the_background_when_configured(
    db_url: str, tmp_path: Path, platform: Platform, backend: str
) -> None:
    """The delivery loop starts with ``serve`` when a platform URL is configured."""
    server = start_server(
        db_url,
        tmp_path,
        extra_env={
            "WINDOW_SERVICE_PLATFORM_URL": platform.url,
            "WINDOW_SERVICE_PLATFORM_SECRET": SECRET,
            "WINDOW_SERVICE_PLATFORM_POLL_SECONDS": "0.2",
        },
    )
    try:
        async with httpx.AsyncClient(base_url=server.url) as c:
            ticket = await serve(c)
            assert (await rate(c, ticket["track_token"], 5)).status_code == 201
        for _ in range(300):  # until it arrives (bounded: the test fails, never hangs)
            if platform.order:
                break
            await asyncio.sleep(0.1)
        assert platform.order == ["demo-1"]
        assert platform.stored["demo-1"]["level"] == 5
    finally:
        server.stop()
