"""Crash safety: the server is killed with SIGKILL in the middle of a busy morning.

After a restart, every ticket whose issue got a 201 is there, the numbers of each prefix run
1…n without duplicates or gaps, numbering continues from n, the audit record still verifies,
and a display that reconnects with its last seq gets every call it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer, start_server
from window_service.audit.verify import verify_command
from window_service.ledger import HallEvent
from window_service.queue.models import Ticket

pytestmark = pytest.mark.slow  # real server processes, faults, fuzzing

SERVICES = ("hukou", "budongchan")
WINDOWS = {1: "w1", 2: "w2", 3: "w3", 4: "w4"}


async def token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def kiosk(
    http: httpx.AsyncClient, issued: list[dict[str, Any]], stop: asyncio.Event, n: int
) -> None:
    rng = random.Random(n)
    while not stop.is_set():
        try:
            response = await http.post(
                "/api/v1/halls/demo/tickets", json={"service": rng.choice(SERVICES)}, headers=KIOSK
            )
        except httpx.HTTPError:
            return  # the server is gone
        if response.status_code == 201:
            issued.append(response.json())


async def window(http: httpx.AsyncClient, number: int, stop: asyncio.Event) -> None:
    try:
        headers = await token(http, WINDOWS[number])
        while not stop.is_set():
            called = await http.post(f"/api/v1/windows/{number}/call-next", headers=headers)
            if called.status_code != 200:
                await asyncio.sleep(0.05)
                continue
            tid = called.json()["id"]
            if tid % 5 == 0:
                await http.post(f"/api/v1/tickets/{tid}/no-show", headers=headers)
                continue
            await http.post(f"/api/v1/tickets/{tid}/start", headers=headers)
            await http.post(
                f"/api/v1/tickets/{tid}/finish", json={"outcome": "completed"}, headers=headers
            )
    except httpx.HTTPError:
        return


async def display(
    url: str, after: int | None, received: list[dict[str, Any]], until_seq: int | None = None
) -> None:
    """Record display messages; with ``until_seq``, stop once that seq has been seen."""
    ws_url = url.replace("http://", "ws://") + "/ws/halls/demo/display"
    if after is not None:
        ws_url += f"?after={after}"
    with contextlib.suppress(Exception):
        async with connect(ws_url, open_timeout=10, ping_interval=None) as ws:
            async for raw in ws:
                message = json.loads(raw)
                received.append(message)
                if until_seq is not None and message.get("seq", 0) >= until_seq:
                    return


async def committed(db_url: str) -> tuple[list[tuple[str, int, int]], list[dict[str, Any]]]:
    """(prefix, seq_no, id) of every ticket, and every call event, straight from the database."""
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            tickets = [
                tuple(r)
                for r in (await conn.execute(select(Ticket.prefix, Ticket.seq_no, Ticket.id))).all()
            ]  # type: ignore[call-overload]
            events = [
                {"seq": seq, "type": type_, **payload}
                for seq, type_, payload in (
                    await conn.execute(
                        select(HallEvent.seq, HallEvent.type, HallEvent.payload).order_by(
                            HallEvent.seq
                        )
                    )  # type: ignore[call-overload]
                ).all()
            ]
    finally:
        await engine.dispose()
    return tickets, events  # type: ignore[return-value]


def kill_all(server: LiveServer) -> None:
    """SIGKILL the server and every worker process it started, at once (a power cut)."""
    try:
        parent = psutil.Process(server.process.pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(processes, timeout=15)
    server.stop(kill=True)


async def test_kill_9_under_load_loses_nothing_committed(
    db_url: str, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"WINDOW_SERVICE_WS_HEARTBEAT_SECONDS": "1"}
    # PostgreSQL: two workers, as a hall runs it (a call made through one reaches the other's
    # displays); SQLite: the one process it supports.
    workers = 2 if backend == "postgresql" else 1
    server: LiveServer = start_server(db_url, tmp_path, extra_env=env, workers=workers)
    issued: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    stop = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            watcher = asyncio.ensure_future(display(server.url, None, before))
            await asyncio.sleep(0.3)
            load = [asyncio.ensure_future(kiosk(http, issued, stop, n)) for n in range(6)]
            load += [asyncio.ensure_future(window(http, n, stop)) for n in WINDOWS]
            # Let the morning get busy, then pull the plug mid-flight.
            for _ in range(100):
                await asyncio.sleep(0.1)
                if len(issued) >= 40 and sum(1 for m in before if m.get("type") == "call") >= 6:
                    break
            await asyncio.to_thread(kill_all, server)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*load, return_exceptions=True), 30)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    finally:
        kill_all(server)
    assert len(issued) >= 10, "the load did not get going"
    seen_seqs = [m["seq"] for m in before if m.get("type") not in ("snapshot", "heartbeat")]
    last_seen = max([m["seq"] for m in before], default=0)

    # Restart on the same database.
    server = start_server(db_url, tmp_path, extra_env=env, workers=workers)
    try:
        tickets, events = await committed(db_url)
        ids = {t[2] for t in tickets}
        lost = [t["number"] for t in issued if t["id"] not in ids]
        assert not lost, f"tickets acknowledged with 201 but gone after the crash: {lost}"
        by_prefix: dict[str, list[int]] = {}
        for prefix, seq_no, _ in tickets:
            by_prefix.setdefault(prefix, []).append(seq_no)
        for prefix, numbers in by_prefix.items():
            assert sorted(numbers) == list(range(1, len(numbers) + 1)), (
                f"{prefix}: gaps or duplicates"
            )
        # Numbering continues where it stopped.
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            nxt = await http.post(
                "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
            )
            assert nxt.status_code == 201
            assert nxt.json()["number"] == f"A{len(by_prefix.get('A', [])) + 1:03d}"

        # The display reconnects with its last seq and gets every call it missed.
        _, events = await committed(db_url)
        head = events[-1]["seq"]
        replayed: list[dict[str, Any]] = []
        await asyncio.wait_for(display(server.url, last_seen, replayed, until_seq=head), 30)
        got = seen_seqs + [
            m["seq"] for m in replayed if m.get("type") not in ("snapshot", "heartbeat")
        ]
        assert replayed and replayed[0]["type"] != "snapshot"
        calls = {e["seq"]: e for e in events if e["type"] == "call"}
        missing = sorted(set(calls) - set(got))
        assert not missing, f"calls the display never got: {missing}"
        replayed_calls = [m for m in replayed if m.get("type") == "call"]
        for message in replayed_calls:
            assert message["ticket"] == calls[message["seq"]]["ticket"]
        live_seqs = [m["seq"] for m in replayed if m.get("type") not in ("snapshot", "heartbeat")]
        assert live_seqs == list(range(last_seen + 1, last_seen + 1 + len(live_seqs)))
    finally:
        server.stop()

    # Whatever was cut off mid-transaction left no trace in the audit record either.
    assert await verify_command(db_url) == 0, capsys.readouterr().err


async def test_hall_lock_does_not_block_commits(db_url: str, backend: str) -> None:
    """A transaction holding the hall row (numbering inspection notices, publishing ratings)
    must not block another hall transaction's commit: that commit holds the hall ledger while
    it inserts rows referencing the hall, and with a plain FOR UPDATE on the hall the two
    deadlocked under load (a 500 found by bench/day.py)."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    from window_service.accountability.config import lock_hall
    from window_service.db import create_database, utcnow
    from window_service.halls.models import Hall
    from window_service.transaction import Actor, Tx

    db = create_database(db_url)
    try:
        async with db.write() as holder, db.write() as other:
            hall = (await holder.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
            await lock_hall(holder, hall.id)
            tx = Tx(other, hall.id, utcnow(), Actor.system())
            tx.emit("queue", change="test", ticket=None, waiting={})
            tx.audit_raw("config.test", "config", "x", after={"a": 1})
            await asyncio.wait_for(tx.commit(), timeout=10)
            await holder.rollback()
    finally:
        await db.dispose()


async def test_a_pooled_connection_killed_by_the_database_is_replaced_unseen(
    db_url: str, backend: str
) -> None:
    """The database restarted (or an administrator ended our sessions): the next request
    gets a live connection instead of an error (the pool checks each connection it hands
    out, see db.py)."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server connections")
    import asyncpg
    from sqlalchemy import func, text

    from window_service.db import create_database
    from window_service.realtime.pg import asyncpg_dsn

    db = create_database(db_url)
    try:
        async with db.read() as session:
            before = (await session.execute(select(func.count()).select_from(Ticket))).scalar()
            backend_pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
        admin = await asyncpg.connect(asyncpg_dsn(db_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend_pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
        async with db.read() as session:
            after = (await session.execute(select(func.count()).select_from(Ticket))).scalar()
            assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar() != backend_pid
        assert after == before
    finally:
        await db.dispose()
