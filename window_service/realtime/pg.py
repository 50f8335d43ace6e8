"""Cross-process wake-ups on PostgreSQL: LISTEN for the NOTIFY each committing process sends.

A notification only says "hall H has events up to S"; the hub then reads the log. The listener
reconnects by itself (with back-off) and, after every (re)connect, catches up from the log, so
notifications lost while it was away cost nothing but a little delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from ..transaction import NOTIFY_CHANNEL
from .hub import Hub

log = logging.getLogger("window_service.realtime")

#: How the listener's connection shows in ``pg_stat_activity``.
APPLICATION_NAME = "window_service_listener"


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as a plain libpq DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    def __init__(self, url: str, hub: Hub, *, safety_interval: float = 5.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self._hub = hub
        self._task: asyncio.Task[None] | None = None
        self._safety_interval = safety_interval
        self.connected = asyncio.Event()
        #: How many times the listener has connected (1 + reconnects).
        self.connects = 0

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        hall, _, seq = payload.partition(":")
        if hall.isdigit() and seq.isdigit():
            self._hub.wake(int(hall), int(seq))

    async def _run(self) -> None:
        delay = 0.5
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(
                    self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
                self.connected.set()
                self.connects += 1
                delay = 0.5
                # Notifications sent while we were away are gone; the log is not.
                await self._hub.catch_up_all()
                while not conn.is_closed() and not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._safety_interval)
                    if lost.is_set() or conn.is_closed():
                        break
                    # A half-open TCP connection tells nobody; ask the server now and then.
                    await conn.execute("SELECT 1", timeout=self._safety_interval)
                log.warning("event listener connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost or refused: retry
                log.warning("event listener disconnected (%s); retrying in %.1fs", exc, delay)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
