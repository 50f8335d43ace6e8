"""Fan-out across processes (PostgreSQL LISTEN/NOTIFY) and prompt shutdown of a live server."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.client import KIOSK, login
from tests.support.dbs import _dsn
from tests.support.realtime import display, serve
from tests.support.server import LiveServer, start_server
from window_service.db import create_database, utcnow
from window_service.realtime.pg import APPLICATION_NAME
from window_service.transaction import Actor, Tx

pytestmark = pytest.mark.slow  # real server processes, faults, fuzzing


def ws_url(server: LiveServer, after: int | None = None) -> str:
    url = server.url.replace("http://", "ws://") + "/ws/halls/demo/display"
    return url if after is None else f"{url}?after={after}"


def require_postgres(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("cross-process fan-out needs PostgreSQL")


async def test_call_through_one_process_reaches_display_on_the_other(
    db_url: str, tmp_path: Path
) -> None:
    require_postgres(db_url)
    a, b = await asyncio.gather(
        asyncio.to_thread(start_server, db_url, tmp_path),
        asyncio.to_thread(start_server, db_url, tmp_path),
    )
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as http:
            w1 = await login(http, "w1")
            async with display(ws_url(b)) as d:
                start = (await d.next())["seq"]
                r = await http.post(
                    "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
                )
                assert r.status_code == 201
                assert (
                    await http.post("/api/v1/windows/1/call-next", headers=w1)
                ).status_code == 200
                message = await d.until(lambda m: m["type"] == "call")
                assert message["ticket"] == "A001" and message["window"] == 1
                assert message["text"] == "请A001号到1号窗口办理"
                await d.until(lambda m: m["seq"] == start + 3)
            events = [m for m in d.received[1:] if m["type"] != "heartbeat"]
            assert [m["seq"] for m in events] == [start + 1, start + 2, start + 3]
    finally:
        a.stop()
        b.stop()


async def test_listener_reconnects_after_its_connection_is_killed(
    db_url: str, tmp_path: Path
) -> None:
    require_postgres(db_url)
    other = create_database(db_url)  # "another process": commits without publishing locally

    async def emit_elsewhere() -> None:
        async with other.write() as session:
            tx = Tx(session, 1, utcnow(), Actor.system())
            tx.emit("queue", change="elsewhere", ticket=None, waiting={})
            await tx.commit()

    try:
        async with serve(db_url, tmp_path) as s:
            s.state.hub._poll_seconds = 3600.0  # only the listener may deliver
            listener = s.app.state.pg_listener
            await asyncio.wait_for(listener.connected.wait(), 10)
            async with display(s.ws_url) as d:
                start = (await d.next())["seq"]
                await emit_elsewhere()
                assert (await d.next())["seq"] == start + 1
                admin = await asyncpg.connect(_dsn(db_url))
                try:
                    killed = await admin.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = $1 AND datname = current_database()",
                        APPLICATION_NAME,
                    )
                finally:
                    await admin.close()
                assert killed == 1
                await emit_elsewhere()  # its NOTIFY may reach nobody
                assert (await d.next(within=30))["seq"] == start + 2
                await emit_elsewhere()
                assert (await d.next(within=30))["seq"] == start + 3
            assert listener.connects >= 2
    finally:
        await other.dispose()


async def test_server_shuts_down_promptly_with_displays_connected(
    db_url: str, tmp_path: Path
) -> None:
    server = await asyncio.to_thread(
        start_server, db_url, tmp_path, extra_env={"WINDOW_SERVICE_WS_HEARTBEAT_SECONDS": "120"}
    )
    try:
        async with display(ws_url(server)) as d1, display(ws_url(server, after=0)) as d2:
            await d1.next()
            await d2.next(heartbeats=True)
            server.process.terminate()
            # Well before the next heartbeat would have woken a stuck socket loop.
            await asyncio.to_thread(server.process.wait, 30)
            for d in (d1, d2):
                with pytest.raises(ConnectionClosed) as closed:
                    await d.next(within=5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not shut down with displays connected")
    finally:
        server.stop(kill=True)
