"""Kiosk requests that arrive together are issued in one transaction (queue/issuing.py).

One path on both databases: each request gets its own answer (a ticket, the same ticket again
for a repeated idempotency key, or its own error), the places are exact whatever else changed
the queue, a failure hands out no number at all, and another process holding SQLite's write
lock is waited for while the server keeps serving.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.support.client import KIOSK, issue, login
from tests.support.dbs import KIOSK_KEY
from window_service.api.errors import ApiError
from window_service.audit.verify import verify_command
from window_service.queue import hall_batch, issuing
from window_service.queue import issue as issue_rules
from window_service.queue.schemas import TicketCreate


async def issue_batch(app: Any, bodies: list[dict[str, Any]]) -> list[Any]:
    """Kiosk requests written as one batch (as if they had arrived together)."""
    state = app.state.core
    queue = issuing.issue_queue_of(app, state)
    principal = await state.auth.device_principal(KIOSK_KEY)
    loop = asyncio.get_running_loop()
    items = [
        hall_batch.Pending(
            "demo", TicketCreate(**b), principal, "http://hall.test/", loop.create_future()
        )
        for b in bodies
    ]
    await queue._run(items)
    answers: list[Any] = []
    for item in items:
        exc = item.future.exception()
        if exc is not None:
            answers.append((exc.status, exc.code) if isinstance(exc, ApiError) else repr(exc))
        else:
            out, created = item.future.result()
            answers.append((hall_batch.built(out).model_dump(mode="json"), created))
    return answers


async def ticket_count(app: Any) -> int:
    async with app.state.core.db.read() as session:
        return int((await session.execute(text("SELECT count(*) FROM ticket"))).scalar_one())


async def test_each_request_of_a_batch_gets_its_own_answer(
    app: Any, client: httpx.AsyncClient, db_url: str, capsys: Any
) -> None:
    answers = await issue_batch(
        app,
        [
            {"service": "hukou"},
            {"service": "budongchan", "idempotency_key": "k-1"},
            {"service": "hukou", "priority": "elderly"},
            {"service": "budongchan", "idempotency_key": "k-1"},  # the same request again
            {"service": "nope"},
            {"service": "hukou"},
        ],
    )
    plain, keyed, green, repeat, unknown, last = answers
    assert (plain[0]["number"], plain[0]["ahead"], plain[1]) == ("A001", 0, True)
    assert (keyed[0]["number"], keyed[1]) == ("B001", True)
    # A green-channel ticket queues before every plain one; a plain one behind both lanes,
    # and behind B001: nobody is on duty, and window 8 will serve both services.
    assert (green[0]["number"], green[0]["ahead"]) == ("A002", 0)
    assert (last[0]["number"], last[0]["ahead"]) == ("A003", 3)
    # The same ticket again, with its place now: A002's green channel has since gone before
    # it (window 8 serves both services).
    assert repeat[1] is False and {**repeat[0], "ahead": 1} == keyed[0]
    assert (keyed[0]["ahead"], repeat[0]["ahead"]) == (1, 2)
    assert unknown == (404, "service_not_found")
    # The key still names its ticket in a later batch, whatever the service asked for.
    [again] = await issue_batch(app, [{"service": "shebao", "idempotency_key": "k-1"}])
    assert again[0]["number"] == "B001" and again[1] is False
    assert await ticket_count(app) == 4
    assert await verify_command(db_url) == 0, capsys.readouterr().out


async def test_places_stay_exact_when_the_queue_changes_between_batches(
    client: httpx.AsyncClient,
) -> None:
    first = [await issue(client) for _ in range(3)]
    assert [t["ahead"] for t in first] == [0, 1, 2]
    w1 = await login(client, "w1")
    r = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert r.status_code == 200, r.text
    assert (await issue(client))["ahead"] == 2  # A001 is at the window, no longer waiting
    assert (await issue(client, priority="pregnant"))["ahead"] == 0
    assert (await issue(client))["ahead"] == 4


async def test_a_failure_in_the_batch_hands_out_no_number(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await issue(client)
    real = issue_rules.record_issued

    def failing(*args: Any) -> None:  # after the numbers and the tickets were written
        real(*args)
        raise OSError("disk full")

    monkeypatch.setattr(issue_rules, "record_issued", failing)
    answers = await issue_batch(app, [{"service": "hukou"}, {"service": "qiye"}])
    assert all("disk full" in str(a) for a in answers), answers
    r = await client.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    monkeypatch.undo()
    assert await ticket_count(app) == 1
    assert (await issue(client))["number"] == "A002"
    assert (await issue(client, "qiye"))["number"] == "C001"


async def test_another_process_holding_the_write_lock_is_waited_for(
    client: httpx.AsyncClient, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer")
    await issue(client)
    other = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        pending = asyncio.ensure_future(issue(client))
        await asyncio.sleep(0.3)
        assert not pending.done()
        health = await client.get("/healthz")  # the server keeps serving meanwhile
        assert health.status_code == 200
    finally:
        other.execute("COMMIT")
        other.close()
    ticket = await pending
    assert ticket["number"] == "A002" and ticket["ahead"] == 1
