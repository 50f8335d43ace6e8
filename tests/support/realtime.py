"""Helpers for the realtime tests: an in-process uvicorn server and a display socket reader."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from tests.support.server import free_port
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.db import utcnow
from window_service.halls.models import Hall
from window_service.transaction import Actor, Event, Tx


@dataclass
class Served:
    """A real uvicorn server running the app in the test's event loop."""

    url: str
    app: Any
    http: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/halls/demo/display"

    @property
    def state(self) -> Any:
        return self.app.state.core

    async def emit(
        self, *events: tuple[str, dict[str, Any]], at: datetime | None = None
    ) -> list[int]:
        """Commit one transaction emitting ``events`` (as a domain service would)."""
        state = self.state
        async with state.db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
            tx = Tx(session, hall.id, at or utcnow(), Actor.system(), state.hub.publish_local)
            for type_, payload in events:
                tx.emit(type_, **payload)
            return [e.seq for e in await tx.commit()]


@contextlib.asynccontextmanager
async def serve(
    db_url: str, var_dir: Path, *, port: int | None = None, **overrides: Any
) -> AsyncIterator[Served]:
    settings = make_settings(db_url, var_dir, **overrides)
    app = create_app(settings, run_housekeeping=False)
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        assert server.started, "uvicorn did not start"
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Served(url, app, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


class Display:
    """A display socket that records what it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def next(self, *, heartbeats: bool = False, within: float = 15) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message: dict[str, Any] = json.loads(await self.ws.recv())
                self.received.append(message)
                if heartbeats or message["type"] != "heartbeat":
                    return message

    async def until(
        self, predicate: Any, *, heartbeats: bool = False, within: float = 15
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            message = await self.next(
                heartbeats=heartbeats, within=max(0.1, deadline - loop.time())
            )
            if predicate(message):
                return message


@contextlib.asynccontextmanager
async def display(url: str, **kwargs: Any) -> AsyncIterator[Display]:
    async with connect(url, open_timeout=15, **kwargs) as ws:
        yield Display(ws)


class FakeLog:
    """An event log in memory, for the hub on its own: events added by hand, slow reads, and a
    last-seq read that can fail."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fetches = 0
        self.fail_last_seq = False

    def add(self, n: int) -> list[Event]:
        start = len(self.events)
        new = [Event(1, start + i + 1, "queue", {"i": start + i + 1}) for i in range(n)]
        self.events.extend(new)
        return new

    async def fetch(self, hall_id: int, after: int, limit: int) -> list[Event]:
        self.fetches += 1
        await asyncio.sleep(0.01)
        return [e for e in self.events if e.seq > after][:limit]

    async def last_seq(self, hall_id: int) -> int:
        await asyncio.sleep(0.01)
        if self.fail_last_seq:
            raise ConnectionError("database down")
        return len(self.events)
