"""Password guessing is slowed down: ten failures for one account lock it from that address."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import login, page_login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import start_server
from window_service.auth.throttle import Throttle, forget_expired
from window_service.cases.access import lookup_throttle
from window_service.db import create_database

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def test_token_endpoint_refuses_a_guessed_account(client: httpx.AsyncClient) -> None:
    for _ in range(10):
        wrong = await client.post(
            "/api/v1/auth/token", json={"username": "w1", "password": "guess-123"}
        )
        assert wrong.status_code == 401
    locked = await client.post(
        "/api/v1/auth/token", json={"username": "w1", "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert "登录失败次数过多" in locked.json()["error"]["message"]
    # Another account (and so the rest of the hall) is not affected.
    assert await login(client, "w2")


async def test_sign_in_page_refuses_a_guessed_account(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for _ in range(10):
        wrong = await client.post(
            "/login", data={"username": "w3", "password": "guess-123", "csrf_token": token}
        )
        assert wrong.status_code == 401
    locked = await client.post(
        "/login", data={"username": "w3", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text
    signed_in = await page_login(client, "w4")  # another account signs in as usual
    assert signed_in.status_code == 303


async def test_success_clears_and_old_failures_expire(db_url: str) -> None:
    db = create_database(db_url)
    try:
        throttle = Throttle("test", limit=3, window=timedelta(seconds=60))
        key, other = "10.0.0.1\nw1", "10.0.0.2\nw1"
        for _ in range(2):
            await throttle.failed(db, key, T0)
        await throttle.succeeded(db, key, T0)
        for _ in range(2):
            await throttle.failed(db, key, T0)
        assert await throttle.blocked_for(db, key, T0) == 0
        await throttle.failed(db, key, T0 + timedelta(seconds=1))
        assert await throttle.blocked_for(db, key, T0 + timedelta(seconds=2)) > 0
        assert await throttle.blocked_for(db, other, T0) == 0  # another address
        # The lockout ends a window after the failure that reached the limit.
        assert await throttle.blocked_for(db, key, T0 + timedelta(seconds=62)) == 0
        # Failures spread wider than the window never add up to a lockout.
        for i in range(6):
            await throttle.failed(db, other, T0 + timedelta(seconds=61 * i))
        assert await throttle.blocked_for(db, other, T0 + timedelta(seconds=61 * 5)) == 0
    finally:
        await db.dispose()


async def test_housekeeping_forgets_only_expired_rows(db_url: str) -> None:
    db = create_database(db_url)
    try:
        throttle = Throttle("test", limit=1, window=timedelta(days=3))
        await throttle.failed(db, "locked", T0)
        quick = Throttle("test", limit=5, window=timedelta(minutes=1))
        await quick.failed(db, "old", T0)
        assert await forget_expired(db, T0 + timedelta(days=2)) == 1  # "old" only
        assert await throttle.blocked_for(db, "locked", T0 + timedelta(days=2)) > 0
        assert await forget_expired(db, T0 + timedelta(days=5)) == 1
    finally:
        await db.dispose()


@pytest.mark.slow
async def test_two_processes_count_the_same_guesses(db_url: str, tmp_path: Path) -> None:
    """A guesser alternating between two ``serve`` processes gets no more tries than on one."""
    one = start_server(db_url, tmp_path)
    two = start_server(db_url, tmp_path)
    try:
        async with (
            httpx.AsyncClient(base_url=one.url, timeout=30) as a,
            httpx.AsyncClient(base_url=two.url, timeout=30) as b,
        ):
            for i in range(10):
                wrong = await (a, b)[i % 2].post(
                    "/api/v1/auth/token", json={"username": "w5", "password": "guess-123"}
                )
                assert wrong.status_code == 401, (i, wrong.text)
            for server in (a, b):
                locked = await server.post(
                    "/api/v1/auth/token", json={"username": "w5", "password": DEMO_PASSWORD}
                )
                assert locked.status_code == 429, locked.text
            lookup = {"receipt_no": "SL20261126000999", "check_code": "000000"}
            for i in range(10):
                miss = await (a, b)[i % 2].get("/api/v1/cases/lookup", params=lookup)
                assert miss.status_code == 404, (i, miss.text)
            for server in (a, b):
                refused = await server.get("/api/v1/cases/lookup", params=lookup)
                assert refused.status_code == 429, refused.text
    finally:
        one.stop()
        two.stop()


@pytest.mark.slow
async def test_a_lookup_lockout_survives_a_flood_of_made_up_numbers(
    app: Any, client: httpx.AsyncClient
) -> None:
    """The old per-process guard forgot every lockout once 10,000 numbers had been tried."""
    lookup = {"receipt_no": "SL20261126000998", "check_code": "000000"}
    for _ in range(10):
        assert (await client.get("/api/v1/cases/lookup", params=lookup)).status_code == 404
    assert (await client.get("/api/v1/cases/lookup", params=lookup)).status_code == 429
    # The flood's failures are counted as a wrong lookup counts them (the throttle's own
    # call), not sent as 10,000 requests: the lookup's HTTP path is the test's first part,
    # and the requests made this the suite's slowest test by far (3 minutes on 2 cores).
    core = app.state.core
    now = core.clock.now()
    sem = asyncio.Semaphore(16)

    async def made_up(i: int) -> None:
        async with sem:
            await lookup_throttle.failed(core.db, f"X{i:06d}", now)

    await asyncio.gather(*(made_up(i) for i in range(10_002)))
    assert (
        await client.get(
            "/api/v1/cases/lookup", params={"receipt_no": "X000001", "check_code": "1"}
        )
    ).status_code == 404
    assert (await client.get("/api/v1/cases/lookup", params=lookup)).status_code == 429
    page = await client.get("/lookup", params=lookup)
    assert page.status_code == 429
