"""Sending the outbox to the outside 好差评 platform: at least once, in order per hall.

Each round, for every hall with messages waiting, one process takes the hall's lease (a
conditional UPDATE of its outbox row, so several ``serve`` processes never deliver the same
hall at once) and POSTs the hall's messages in number order. A message is marked delivered
only after a 2xx answer; a failure stops the hall there (nothing overtakes it) and the message
is retried after an exponential back-off with a cap. Each request carries the message's
idempotency key (``X-Delivery-Id``) and an HMAC-SHA256 signature over the exact body
(``X-Signature-256: sha256=<hex>``). Nothing is sent while no platform URL is configured.

The bookkeeping (attempts, errors, delivered time) is the delivery's own state, not a change
of a rating or rectification, so it is not in the audit record; the message itself was
written in the rating's audited transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlmodel import col

from ..state import AppState
from .models import PlatformDelivery, PlatformOutboxHall

log = logging.getLogger("window_service.outbox")

#: How long a process may deliver a hall before another one may take over.
LEASE = timedelta(seconds=60)
#: Messages one round sends per hall at most (the lease is renewed with each one).
BATCH = 100
PROCESS_ID = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_HALLS = PlatformOutboxHall.__table__  # type: ignore[attr-defined]
_ROWS = PlatformDelivery.__table__  # type: ignore[attr-defined]


def body_bytes(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted, UTF-8."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the body with the configured secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int, first: float, cap: float) -> timedelta:
    """The wait after the ``attempts``-th failure: first, 2×first, 4×first, … up to cap."""
    return timedelta(seconds=min(cap, first * 2 ** max(0, attempts - 1)))


class Deliverer:
    """Delivers the outbox of every hall; ``client`` may be given (tests, a proxy)."""

    def __init__(
        self, state: AppState, client: httpx.AsyncClient | None = None, *, owner: str = ""
    ) -> None:
        self.state = state
        self.settings = state.settings
        self.owner = owner or PROCESS_ID
        self._client = client

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.platform_timeout_seconds)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def run_once(self) -> int:
        """One round over every hall with messages waiting; returns how many were delivered."""
        if not self.settings.platform_url:
            return 0
        async with self.state.db.read() as session:
            halls = list(
                (
                    await session.execute(
                        select(PlatformDelivery.hall_id)  # type: ignore[call-overload]
                        .where(col(PlatformDelivery.delivered_at).is_(None))
                        .distinct()
                    )
                ).scalars()
            )
        delivered = 0
        for hall_id in sorted(halls):
            delivered += await self.deliver_hall(hall_id)
        return delivered

    async def _lease(self, hall_id: int, *, release: bool = False) -> bool:
        now = self.state.clock.now()
        c = _HALLS.c
        stmt = update(_HALLS).where(c.hall_id == hall_id)
        if release:
            stmt = stmt.where(c.lease_owner == self.owner).values(lease_owner="", lease_until=None)
        else:
            stmt = stmt.where(
                or_(c.lease_owner == self.owner, c.lease_until.is_(None), c.lease_until < now)
            ).values(lease_owner=self.owner, lease_until=now + LEASE)
        async with self.state.db.write() as session:
            taken = (await session.execute(stmt.returning(c.hall_id))).first() is not None
            await session.commit()
        return taken

    async def deliver_hall(self, hall_id: int) -> int:
        """Send the hall's waiting messages in order until one fails or is not due yet."""
        if not await self._lease(hall_id):
            return 0  # another process delivers this hall now
        delivered = 0
        try:
            for _ in range(BATCH):
                async with self.state.db.read() as session:
                    row = (
                        await session.execute(
                            select(PlatformDelivery)
                            .where(
                                col(PlatformDelivery.hall_id) == hall_id,
                                col(PlatformDelivery.delivered_at).is_(None),
                            )
                            .order_by(col(PlatformDelivery.seq))
                            .limit(1)
                        )
                    ).scalar_one_or_none()
                now = self.state.clock.now()
                if row is None or (row.next_attempt_at is not None and row.next_attempt_at > now):
                    break
                error = await self.send(row)
                if not await self._record(hall_id, row, error):
                    break
                if error:
                    break
                delivered += 1
        finally:
            await self._lease(hall_id, release=True)
        return delivered

    async def send(self, row: PlatformDelivery) -> str:
        """POST one message; returns "" on a 2xx answer, else what went wrong."""
        body = body_bytes(row.body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Delivery-Id": str(row.body.get("id", row.seq)),
            "X-Delivery-Attempt": str(row.attempts + 1),
        }
        if self.settings.platform_secret:
            headers["X-Signature-256"] = signature(self.settings.platform_secret, body)
        try:
            response = await self.client().post(
                self.settings.platform_url,
                content=body,
                headers=headers,
                timeout=self.settings.platform_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if 200 <= response.status_code < 300:
            return ""
        return f"HTTP {response.status_code}: {response.text[:200]}"[:500]

    async def _record(self, hall_id: int, row: PlatformDelivery, error: str) -> bool:
        """Write the attempt's outcome and renew the lease; False when the lease was lost."""
        now = self.state.clock.now()
        attempts = row.attempts + 1
        c = _ROWS.c
        values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now}
        if error:
            wait = backoff(
                attempts,
                self.settings.platform_retry_seconds,
                self.settings.platform_retry_max_seconds,
            )
            values.update(last_error=error, next_attempt_at=now + wait)
            log.warning("platform delivery %s failed (attempt %d): %s", row.seq, attempts, error)
        else:
            values.update(delivered_at=now, last_error="")
        h = _HALLS.c
        async with self.state.db.write() as session:
            await session.execute(
                update(_ROWS).where(c.id == row.id, c.delivered_at.is_(None)).values(**values)
            )
            kept = (
                await session.execute(
                    update(_HALLS)
                    .where(h.hall_id == hall_id, h.lease_owner == self.owner)
                    .values(lease_until=now + LEASE)
                    .returning(h.hall_id)
                )
            ).first() is not None
            await session.commit()
        return kept


async def run_forever(state: AppState) -> None:
    """The delivery loop started with the app (only when a platform URL is configured)."""
    deliverer = Deliverer(state)
    try:
        while True:
            try:
                await deliverer.run_once()
            except Exception:
                log.exception("platform delivery round failed")
            await asyncio.sleep(state.settings.platform_poll_seconds)
    finally:
        await deliverer.close()
