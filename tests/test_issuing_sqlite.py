"""SQLite's issuing batch written on the event loop's thread (queue/issuing_sqlite.py).

It must write exactly what the general path writes (tickets, counters, events, audit records,
the ledger), give the same answers, and step aside (write nothing) whenever it cannot: the
queue changed since it was counted, or another process holds the write lock.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import KIOSK, issue, login, make_settings
from tests.dbs import KIOSK_KEY
from window_service import db_sqlite
from window_service.api.errors import ApiError
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock
from window_service.queue import issuing, issuing_sqlite, service
from window_service.queue.schemas import TicketCreate

TABLES = ["ticket", "ticket_counter", "hall_event", "audit_record", "hall_ledger"]


def sqlite_path(db_url: str) -> str:
    return db_url.split("///", 1)[1]


def rows_of(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables issuing writes, as SQLite stores them."""
    with sqlite3.connect(sqlite_path(db_url)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}


def counted(count: Iterator[int], n: int) -> bytes:
    """``n`` bytes that are the next values of ``count``, 15 bytes each (a tracking token's
    random part): tokens that differ, the same ones on every run."""
    return b"".join(next(count).to_bytes(15) for _ in range(n // 15))


class Paths:
    """Counts which way each batch was written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, general_only: bool = False) -> None:
        self.direct = 0
        self.general = 0
        real = issuing_sqlite.write_batch

        def write_batch(conn: sqlite3.Connection, later: Any, job: Any) -> Any:
            if general_only:
                conn.execute("ROLLBACK")
                return None
            written = real(conn, later, job)
            if written is not None:
                self.direct += 1
            return written

        real_apply = issuing.IssueQueue._apply

        async def apply(queue: Any, *args: Any) -> None:
            self.general += 1
            await real_apply(queue, *args)

        monkeypatch.setattr(issuing_sqlite, "write_batch", write_batch)
        monkeypatch.setattr(issuing.IssueQueue, "_apply", apply)


@pytest.fixture
async def make_client(
    templates: dict[str, Any], tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Any]:
    """Clients of fresh demo halls (each its own SQLite file), all on the same hall clock."""
    made: list[tuple[Any, str]] = []

    async def make() -> tuple[httpx.AsyncClient, str, Any]:
        url = await templates["sqlite"].fresh()
        app = create_app(
            make_settings(url, tmp_path / f"var-{len(made)}"), clock=clock, run_housekeeping=False
        )
        made.append((app, url))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://hall.test",
        )
        return client, url, app

    yield make
    for app, url in made:
        await app.state.core.db.dispose()
        await templates["sqlite"].drop(url)


async def issue_batch(app: Any, bodies: list[dict[str, Any]]) -> list[Any]:
    """Kiosk requests written as one batch (as if they had arrived together)."""
    state = app.state.core
    queue = issuing.issue_queue_of(app, state)
    principal = await state.auth.device_principal(KIOSK_KEY)
    loop = asyncio.get_running_loop()
    items = [
        issuing._Pending(
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
            answers.append((issuing.built(out).model_dump(mode="json"), created))
    return answers


async def test_writes_exactly_what_the_general_path_writes(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    bodies = [
        {"service": "hukou"},
        {"service": "budongchan", "idempotency_key": "k-1"},
        {"service": "hukou", "priority": "elderly"},
        {"service": "budongchan", "idempotency_key": "k-1"},  # the same request again
        {"service": "qiye"},
        {"service": "nope"},
        {"service": "shuiwu", "priority": "military"},
    ]
    outcomes = []
    for general_only in (False, True):
        tokens = itertools.count()
        with monkeypatch.context() as patch:
            patch.setattr(service.secrets, "token_bytes", lambda n, t=tokens: counted(t, n))
            paths = Paths(patch, general_only=general_only)
            client, url, app = await make_client()
            async with client:
                answers = [await issue_batch(app, bodies) for _ in range(3)]
                again = [{"service": "shebao", "idempotency_key": "k-1"}]
                answers.append(await issue_batch(app, again))
                answers.append(await issue_batch(app, [{"service": "hukou"}] * 5))
                w1 = await login(client, "w1")
                r = await client.post("/api/v1/windows/1/call-next", headers=w1)
                assert r.status_code == 200, r.text
                answers.append(await issue_batch(app, [{"service": "hukou"}] * 2))
            outcomes.append((answers, rows_of(url), url))
        if general_only:
            assert paths.direct == 0 and paths.general == 6
        else:  # the batch after the call counts under the lock
            assert paths.direct == 5 and paths.general == 1
    (direct_answers, direct_rows, direct_url), (general_answers, general_rows, _) = outcomes
    assert direct_answers == general_answers
    assert direct_answers[0][3] == (direct_answers[0][1][0], False)
    assert direct_rows == general_rows
    assert len(direct_rows["ticket"]) == 5 + 4 + 4 + 5 + 2  # k-1 is issued once
    assert await verify_command(direct_url) == 0, capsys.readouterr().out


async def test_steps_aside_when_the_queue_changed_and_comes_back(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths(monkeypatch)
    client, _, _ = await make_client()
    async with client:
        first = [await issue(client) for _ in range(3)]
        assert [t["ahead"] for t in first] == [0, 1, 2]
        assert (paths.general, paths.direct) == (0, 3)
        w1 = await login(client, "w1")
        r = await client.post("/api/v1/windows/1/call-next", headers=w1)
        assert r.status_code == 200, r.text
        # The kept counts are of an older queue: the general path counts under the lock.
        assert (await issue(client))["ahead"] == 2
        assert (paths.general, paths.direct) == (1, 3)
        assert (await issue(client, priority="pregnant"))["ahead"] == 0
        assert (await issue(client))["ahead"] == 4
        assert (paths.general, paths.direct) == (1, 5)  # and the next ones are written here


async def test_another_writer_holding_the_lock_is_waited_for_not_blocked_on(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN on the event loop's thread never waits: while another process holds SQLite's
    write lock the batch goes the ordinary way, which waits for it on the database's
    thread, and the event loop keeps serving meanwhile."""
    paths = Paths(monkeypatch)
    busy = 0
    real = db_sqlite.write_here

    async def counting(*args: Any) -> Any:
        nonlocal busy
        try:
            return await real(*args)
        except db_sqlite.WriterBusy:
            busy += 1
            raise

    monkeypatch.setattr(db_sqlite, "write_here", counting)
    monkeypatch.setattr("window_service.db.write_here", counting)
    client, url, _ = await make_client()
    async with client:
        await issue(client)
        other = sqlite3.connect(sqlite_path(url), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            pending = asyncio.ensure_future(issue(client))
            await asyncio.sleep(0.3)
            assert not pending.done()
            health = await client.get("/healthz")  # the loop is free
            assert health.status_code == 200
        finally:
            other.execute("COMMIT")
            other.close()
        ticket = await pending
        assert ticket["number"] == "A002" and ticket["ahead"] == 1
    assert busy == 1
    assert (paths.general, paths.direct) == (1, 1)


async def test_a_failing_statement_rolls_back_every_number(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, url, _ = await make_client()
    async with client:
        await issue(client)
        before = rows_of(url)
        real = issuing_sqlite._insert_tickets

        def failing(conn: sqlite3.Connection, sql: Any, rows: Any) -> None:
            real(conn, sql, rows)
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(issuing_sqlite, "_insert_tickets", failing)
        r = await client.post(
            "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
        )
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
        assert rows_of(url) == before
        monkeypatch.undo()
        assert (await issue(client))["number"] == "A002"


async def test_a_failing_insert_on_the_database_thread_rolls_back_every_number(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The INSERTs run with the COMMIT on the connection's thread, after the answers were
    prepared: one failing there (a full disk, say) rolls the whole batch back, its numbers
    included, and every request of the batch gets an error, not a ticket."""
    client, url, app = await make_client()
    async with client:
        await issue(client)
        before = rows_of(url)
        real = db_sqlite.run_and_commit

        def failing(conn: sqlite3.Connection, later: Any) -> None:
            assert [sql.split()[2] for sql, _ in later[:3]] == [
                '"ticket"',
                '"hall_event"',
                '"audit_record"',
            ]
            audit_sql, audit_params = later[2]
            later[2] = (audit_sql.replace('"audit_record"', '"no_such_table"'), audit_params)
            real(conn, later)

        monkeypatch.setattr(db_sqlite, "run_and_commit", failing)
        answers = await issue_batch(app, [{"service": "hukou"}, {"service": "qiye"}])
        assert all("OperationalError" in str(a) for a in answers), answers
        assert rows_of(url) == before
        monkeypatch.undo()
        assert (await issue(client))["number"] == "A002"
