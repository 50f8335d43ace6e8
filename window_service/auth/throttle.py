"""Slowing down guessing: too many failures for one key lock it for a while.

A key is what a guesser repeats: an account from one address (sign-in), a receipt number
(the public case lookup). After ``limit`` failures within ``window``, attempts with that key
are refused (429) until ``locked_until``, ``lockout`` after the failure that reached the
limit. A success clears the count.

The counts live in the database (``attempt_throttle``), not in a process: several ``serve``
processes on one database refuse a guesser after the same number of tries as one, and no
number of other keys makes a process forget a live lockout. Each failure is one atomic
upsert (``INSERT … ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike), so failures
arriving at once through different processes are all counted. Sign-ins and lookups are not
hot paths; a refused attempt costs one primary-key read. Housekeeping removes rows whose
window and lockout are long over (:func:`forget_expired`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db import Database, TZDateTime
from .models import AttemptThrottle

#: Rows untouched for this long, and not locked, are removed by housekeeping.
KEEP_FOR = timedelta(days=1)
MAX_KEY = 255

_table: Any = AttemptThrottle.__table__  # type: ignore[attr-defined]


class Throttle:
    """Failures per key of one ``scope``, counted in the database."""

    def __init__(
        self,
        scope: str,
        *,
        limit: int = 10,
        window: timedelta = timedelta(minutes=15),
        lockout: timedelta | None = None,
    ) -> None:
        self.scope = scope
        self.limit = limit
        self.window = window
        self.lockout = lockout if lockout is not None else window

    @staticmethod
    def _key(key: str) -> str:
        return key[:MAX_KEY]

    async def blocked_for(self, db: Database, key: str, now: datetime) -> float:
        """Seconds until ``key`` may be tried again; 0 when it may be tried now."""
        async with db.read() as session:
            locked_until = (
                await session.execute(
                    select(_table.c.locked_until).where(
                        _table.c.scope == self.scope, _table.c.key == self._key(key)
                    )
                )
            ).scalar_one_or_none()
        if locked_until is None or locked_until <= now:
            return 0.0
        return max(1.0, float((locked_until - now).total_seconds()))

    async def failed(self, db: Database, key: str, now: datetime) -> None:
        """Count a failure of ``key`` at ``now``; the ``limit``-th in the window locks it."""
        stale = _table.c.window_start <= now - self.window
        failures = case((stale, 1), else_=_table.c.failures + 1)
        lock_at = literal(now + self.lockout, TZDateTime)
        insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(_table)
        stmt = insert.values(
            scope=self.scope,
            key=self._key(key),
            window_start=now,
            failures=1,
            locked_until=now + self.lockout if self.limit <= 1 else None,
            updated_at=now,
        ).on_conflict_do_update(
            index_elements=[_table.c.scope, _table.c.key],
            set_={
                "window_start": case(
                    (stale, literal(now, TZDateTime)), else_=_table.c.window_start
                ),
                "failures": failures,
                "locked_until": case(
                    (failures >= self.limit, lock_at), else_=_table.c.locked_until
                ),
                "updated_at": literal(now, TZDateTime),
            },
        )
        async with db.write() as session:
            await session.execute(stmt)
            await session.commit()

    async def succeeded(self, db: Database, key: str, now: datetime) -> None:
        """A success clears the key's count (a lockout in force is not lifted)."""
        async with db.read() as session:
            failures = (
                await session.execute(
                    select(_table.c.failures).where(
                        _table.c.scope == self.scope, _table.c.key == self._key(key)
                    )
                )
            ).scalar_one_or_none()
        if not failures:
            return  # the usual case: nothing to clear, no write
        async with db.write() as session:
            await session.execute(
                update(_table)
                .where(
                    _table.c.scope == self.scope,
                    _table.c.key == self._key(key),
                    _table.c.failures > 0,
                )
                .values(failures=0, updated_at=now)
            )
            await session.commit()


class LoginThrottle(Throttle):
    """Failed sign-ins per account and address (10 in 15 minutes lock for 15 minutes)."""

    def __init__(self, limit: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        super().__init__("login", limit=limit, window=window)

    @staticmethod
    def login_key(username: str, address: str) -> str:
        return f"{address}\n{username}"


async def forget_expired(db: Database, now: datetime) -> int:
    """Remove throttle rows untouched for :data:`KEEP_FOR` whose lockout (if any) is over."""
    before = now - KEEP_FOR
    async with db.write() as session:
        result = await session.execute(
            delete(_table).where(
                and_(
                    _table.c.updated_at < before,
                    or_(_table.c.locked_until.is_(None), _table.c.locked_until < before),
                )
            )
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
