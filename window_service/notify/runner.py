"""The notifier: follows each hall's committed events through the hub and looks for due alerts.

Domain events → event log → hub → here, never from inside the queue's transaction: a call is
committed and answered whatever the gateway does. Every event of a hall (and every heartbeat,
at least each 15 s, and a resync) leads to one look at the hall (``alerts.look``), bursts
coalesced. Runs only when a gateway is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from ..halls.models import Hall
from ..state import AppState
from . import alerts
from .gateway import Gateway

log = logging.getLogger("window_service.notify")

#: Events arriving within this many seconds lead to one look.
COALESCE_SECONDS = 0.2
#: How often the list of halls is read again (a hall added later is watched from then on).
HALLS_SECONDS = 60.0


class Notifier:
    def __init__(self, state: AppState, gateway: Gateway) -> None:
        self.state = state
        self.gateway = gateway
        self._watchers: dict[int, asyncio.Task[None]] = {}

    async def look(self, hall_id: int) -> int:
        return await alerts.look(self.state.db, self.gateway, hall_id, self.state.clock.now())

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    async with self.state.db.read() as session:
                        ids = list((await session.execute(select(Hall.id))).scalars())  # type: ignore[call-overload]
                except Exception as exc:
                    log.warning("notifier cannot list halls: %s", exc)
                    ids = []
                for hall_id in ids:
                    task = self._watchers.get(hall_id)
                    if task is None or task.done():
                        self._watchers[hall_id] = asyncio.ensure_future(self._watch(hall_id))
                await asyncio.sleep(HALLS_SECONDS)
        finally:
            for task in self._watchers.values():
                task.cancel()
            for task in self._watchers.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _watch(self, hall_id: int) -> None:
        hub = self.state.hub
        subscriber = await hub.subscribe(hall_id)
        try:
            await self._safe_look(hall_id)
            while True:
                await subscriber.wait()
                if subscriber.closed:
                    return
                await asyncio.sleep(COALESCE_SECONDS)
                # What the events say does not matter: the look reads the hall as it is now.
                subscriber.items.clear()
                subscriber.resync = False
                subscriber.heartbeat_due = False
                await self._safe_look(hall_id)
        finally:
            hub.unsubscribe(subscriber)

    async def _safe_look(self, hall_id: int) -> None:
        try:
            await self.look(hall_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("alert look failed for hall %s", hall_id)
