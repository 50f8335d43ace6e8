"""Numbers, calls and idempotency under real concurrency: HTTP to a real server subprocess.

Each test runs on SQLite (one process) and PostgreSQL. The guarantees checked here are the
ones peers' bug trackers show breaking under load: duplicate or skipped numbers, two windows
calling one ticket, two terminals of one window both calling, a double tap giving two tickets.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer, start_server
from window_service.audit.verify import verify_all
from window_service.db import create_database
from window_service.ledger import AuditRecord

pytestmark = pytest.mark.slow  # real server processes, faults, fuzzing

CLIENTS = 32


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


def http(server: LiveServer, **kwargs: Any) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS * 2)
    return httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits, **kwargs)


async def bearer(c: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await c.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def issue_many(c: httpx.AsyncClient, services: list[str]) -> list[dict[str, Any]]:
    """Issue one ticket per entry of ``services``, at most CLIENTS requests in flight."""
    gate = asyncio.Semaphore(CLIENTS)

    async def one(code: str) -> dict[str, Any]:
        async with gate:
            r = await c.post("/api/v1/halls/demo/tickets", json={"service": code}, headers=KIOSK)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    return list(await asyncio.gather(*(one(code) for code in services)))


def expected(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:03d}" for n in range(1, count + 1)]


async def test_400_concurrent_tickets_are_numbered_without_gaps_or_duplicates(
    server: LiveServer,
) -> None:
    services = ["hukou"] * 300 + ["budongchan"] * 100
    # Interleave so both counters are contended at the same time.
    services = [s for pair in zip(services[:200], services[200:], strict=True) for s in pair]
    async with http(server) as c:
        tickets = await issue_many(c, services)
        numbers = [t["number"] for t in tickets]
        assert len(set(numbers)) == 400
        assert sorted(n for n in numbers if n.startswith("A")) == expected("A", 300)
        assert sorted(n for n in numbers if n.startswith("B")) == expected("B", 100)
        # Queue time is the moment of numbering: number order is queue order.
        by_number = sorted(
            (t for t in tickets if t["service"] == "hukou"), key=lambda t: t["number"]
        )
        queued = [t["queued_at"] for t in by_number]
        assert queued == sorted(queued)
        # Nobody was called meanwhile: each ticket had exactly the tickets issued before it
        # ahead of it (counted in two steps around the numbering lock, see queue/waiting.py),
        # of both services, since window 8 serves both (queue/estimate.py).
        assert sorted(t["ahead"] for t in tickets) == list(range(400))
        for code in ("hukou", "budongchan"):
            mine = sorted((t for t in tickets if t["service"] == code), key=lambda t: t["number"])
            assert [t["ahead"] for t in mine] == sorted(t["ahead"] for t in mine)
        # The hall's public view agrees.
        services_view = {s["code"]: s for s in (await c.get("/api/v1/halls/demo/services")).json()}
        assert services_view["hukou"]["queue_waiting"] == 300
        assert services_view["budongchan"]["queue_waiting"] == 100
        assert services_view["hukou"]["waiting"] == 400
        # Every ticket is in the audit record, under the kiosk that took it, and the chain
        # and the rows verify.
        db = create_database(server.env["WINDOW_SERVICE_DATABASE_URL"])
        try:
            async with db.read() as session:
                actors = Counter(
                    (
                        await session.execute(
                            select(AuditRecord.actor).where(AuditRecord.action == "ticket.issue")  # type: ignore[call-overload]
                        )
                    ).scalars()
                )
                assert sum(actors.values()) == 400
                assert all(actor.startswith("device:") for actor in actors), actors
                assert await verify_all(session) is None
        finally:
            await db.dispose()
        # Window 1 calls them in number order.
        headers = await bearer(c, "w1")
        called = []
        for _ in range(3):
            r = await c.post("/api/v1/windows/1/call-next", headers=headers)
            assert r.status_code == 200, r.text
            called.append(r.json()["number"])
            r = await c.post(f"/api/v1/tickets/{r.json()['id']}/no-show", headers=headers)
            assert r.status_code == 200, r.text
        assert called == ["A001", "A002", "A003"]


async def test_two_terminals_racing_on_one_window_get_one_call(server: LiveServer) -> None:
    async with http(server) as c:
        await issue_many(c, ["hukou"] * 5)
        headers = await bearer(c, "w1")
        responses = await asyncio.gather(
            *(c.post("/api/v1/windows/1/call-next", headers=headers) for _ in range(10))
        )
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: 1, 409: 9}, [r.text for r in responses]
        for r in responses:
            if r.status_code == 409:
                assert r.json()["error"]["code"] == "window_busy"
        winner = next(r.json() for r in responses if r.status_code == 200)
        assert winner["number"] == "A001"
        windows = (await c.get("/api/v1/halls/demo/windows")).json()
        window1 = next(w for w in windows if w["number"] == 1)
        assert window1["current"]["number"] == "A001"
        # Only one ticket left the queue.
        services = {s["code"]: s for s in (await c.get("/api/v1/halls/demo/services")).json()}
        assert services["hukou"]["waiting"] == 4


async def test_three_windows_draining_one_queue_call_each_ticket_exactly_once(
    server: LiveServer,
) -> None:
    total = 60
    async with http(server) as c:
        await issue_many(c, ["hukou"] * total)
        staff = {n: await bearer(c, f"w{n}") for n in (1, 2, 8)}
        called: list[tuple[int, str]] = []

        async def drain(window: int) -> None:
            headers = staff[window]
            while True:
                r = await c.post(f"/api/v1/windows/{window}/call-next", headers=headers)
                if r.status_code == 204:
                    return
                assert r.status_code == 200, r.text
                ticket = r.json()
                assert ticket["window"] == window
                called.append((window, ticket["number"]))
                for step, body in (("start", None), ("finish", {"outcome": "completed"})):
                    r = await c.post(
                        f"/api/v1/tickets/{ticket['id']}/{step}", headers=headers, json=body
                    )
                    assert r.status_code == 200, r.text

        await asyncio.gather(*(drain(n) for n in staff))
        numbers = [n for _, n in called]
        assert len(numbers) == len(set(numbers)), Counter(numbers).most_common(3)
        assert sorted(numbers) == expected("A", total)
        # All three windows took part (the work was really shared).
        assert {w for w, _ in called} == {1, 2, 8}


async def test_one_idempotency_key_sent_ten_times_at_once_gives_one_ticket(
    server: LiveServer,
) -> None:
    async with http(server) as c:
        first = await issue_many(c, ["hukou"])
        assert first[0]["number"] == "A001"
        key = str(uuid.uuid4())
        body = {"service": "hukou", "idempotency_key": key}
        responses = await asyncio.gather(
            *(c.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK) for _ in range(10))
        )
        assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [
            r.text for r in responses
        ]
        ids = {r.json()["id"] for r in responses}
        numbers = {r.json()["number"] for r in responses}
        assert len(ids) == 1 and numbers == {"A002"}
        # No number was consumed by the losers: the next ticket is the next number.
        after = await issue_many(c, ["hukou"])
        assert after[0]["number"] == "A003"


async def test_numbering_continues_after_a_server_restart(db_url: str, tmp_path: Path) -> None:
    first = start_server(db_url, tmp_path)
    try:
        async with http(first) as c:
            tickets = await issue_many(c, ["hukou"] * 3 + ["shuiwu"])
    finally:
        first.stop()
    assert sorted(t["number"] for t in tickets) == ["A001", "A002", "A003", "E001"]
    second = start_server(db_url, tmp_path)
    try:
        async with http(second) as c:
            again = await issue_many(c, ["hukou", "shuiwu"])
            assert [t["number"] for t in again] == ["A004", "E002"]
            services = {s["code"]: s for s in (await c.get("/api/v1/halls/demo/services")).json()}
            assert services["hukou"]["queue_waiting"] == 4
            # Window 8 serves both: E001 and E002 stand before a new hukou ticket too.
            assert services["hukou"]["waiting"] == 6
    finally:
        second.stop()


async def test_two_server_processes_share_numbers_and_idempotency_keys(
    db_url: str, backend: str, tmp_path: Path
) -> None:
    """``serve --workers 2`` on PostgreSQL: both processes number from the same counters, and
    one key sent to both at once still gives one ticket (the loser's batch rolls back, its
    numbers with it, and its requests are answered one by one)."""
    if backend != "postgresql":
        pytest.skip("several processes need PostgreSQL")
    live = start_server(db_url, tmp_path, workers=2)
    try:
        async with http(live) as c:
            keyed = {"service": "hukou", "idempotency_key": "double-tap"}

            async def one(i: int) -> httpx.Response:
                body = keyed if i % 4 == 0 else {"service": "hukou"}
                return await c.post("/api/v1/halls/demo/tickets", json=body, headers=KIOSK)

            # Fresh connections, so the kernel spreads them over both processes.
            answers = await asyncio.gather(*(one(i) for i in range(80)), return_exceptions=True)
            failures = [a for a in answers if not isinstance(a, httpx.Response)]
            if failures:
                log = await asyncio.to_thread(
                    lambda: next(tmp_path.glob("server-*.log")).read_text()[-3000:]
                )
                raise AssertionError((failures[:3], log))
            responses = [a for a in answers if isinstance(a, httpx.Response)]
            assert all(r.status_code in (200, 201) for r in responses), [
                r.text for r in responses if r.status_code >= 300
            ]
            keyed_ids = {r.json()["id"] for i, r in enumerate(responses) if i % 4 == 0}
            assert len(keyed_ids) == 1
            numbers = {r.json()["number"] for r in responses}
            assert sorted(numbers) == expected("A", 61)
            # Both processes counted the people ahead exactly.
            created = sorted(
                (r.json() for r in responses if r.status_code == 201), key=lambda t: t["number"]
            )
            assert [t["ahead"] for t in created] == list(range(61))
            after = await issue_many(c, ["hukou"])
            assert after[0]["number"] == "A062"
    finally:
        live.stop()
