"""Database engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite: WAL journal, a busy timeout and foreign keys on every connection. Writes go through a
separate engine whose transactions begin with ``BEGIN IMMEDIATE`` so they take the write lock
first: two kiosks never both read a counter and then fail to upgrade their lock ("database is
locked"). Reads use ordinary deferred transactions and run beside the writer (WAL).

PostgreSQL: one engine for both; row locks (``FOR UPDATE``) order the writers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Integer, cast, event, func, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import DateTime, TypeDecorator

from .chain import AuditKey, canonical_json

SQLITE_BUSY_TIMEOUT_MS = 30_000


class TZDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on both databases: stored as UTC, read back as aware UTC.

    PostgreSQL keeps ``timestamptz`` natively; SQLite has no time zones, so the value is
    normalised to UTC before it is written and tagged UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        zone = value.tzinfo
        if zone is UTC:  # asyncpg's timestamptz: already UTC (the common case, and hot)
            return value
        if zone is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: A quarter of an hour in seconds: every time zone's offset from UTC is a whole number of
#: them, so a moment's quarter-hour since the epoch tells its local hour in any zone.
QUARTER_HOUR = 900


def minutes_between(start: Any, end: Any, dialect: str) -> Any:
    """SQL: the minutes from ``start`` to ``end`` as a float (NULL if either is NULL).

    SQLite has only ``julianday`` (days as a float), whose difference is off by up to about
    a millionth of a minute: rounded to a ten-thousandth (6 ms), a wait of exactly 20
    minutes is 20, not a breach of a 20-minute target."""
    if dialect == "postgresql":
        # date_part gives a double; extract, since PostgreSQL 14, a (slower) numeric
        return type_coerce(func.date_part("epoch", end - start) / 60.0, Float)
    return func.round((func.julianday(end) - func.julianday(start)) * 1440.0, 4)


def quarter_hours(moment: Any, dialect: str) -> Any:
    """SQL: the whole quarter-hours from the epoch to ``moment`` (an integer; see
    ``QUARTER_HOUR``), so a day's moments are grouped by local hour without reading them."""
    if dialect == "postgresql":
        seconds = cast(func.floor(func.date_part("epoch", moment)), Integer)
    else:
        seconds = cast(func.strftime("%s", moment), Integer)
    return seconds // QUARTER_HOUR


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix):
        rest = url[len(prefix) :].split("?", 1)[0]
        if rest and rest != ":memory:":
            return Path(rest)
    return None


def _setup_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
        # The pool's own reset (``pool_reset_on_return=None`` below) rolls back every
        # connection it takes back, a trip to aiosqlite's thread even after a commit: roll
        # back only what is still open (SQLAlchemy's documented custom reset).
        if reset_state.terminate_only or not reset_state.asyncio_safe:
            return
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to aiosqlite (one trip to its thread; a statement through SQLAlchemy's
        # cursor takes three): every transaction, every display's read, begins here.
        try:
            conn.connection.dbapi_connection.run_async(lambda d: d.execute_fetchall(begin))
        except sqlite3.Error as exc:  # as SQLAlchemy raises a failed statement's error
            raise OperationalError(begin, None, exc) from exc


@dataclass
class Database:
    """The process's engines. ``write()`` for transactions that change data, ``read()`` else."""

    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    #: The key every audit record this process writes is sealed with; when not given, the
    #: configured one (``Settings.resolved_audit_key``), read at the first write.
    audit_key: AuditKey | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    def __post_init__(self) -> None:
        # ``Tx.commit`` finds the audit key through its session (``session_audit_key``).
        self._write = async_sessionmaker(
            self.write_engine, expire_on_commit=False, info={_DATABASE: self}
        )
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here, in order,
        # instead of in SQLite's busy handler, which sleeps up to 100 ms between retries
        # (hundreds of ms of latency under load). Other processes (the CLI) still meet
        # BEGIN IMMEDIATE and the busy timeout.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    def chain_key(self) -> AuditKey:
        """The audit key this process seals records with."""
        if self.audit_key is None:
            from .config import get_settings

            key = get_settings().resolved_audit_key()
            assert key is not None
            self.audit_key = AuditKey(key)
        return self.audit_key

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction holds the write lock (SQLite) from its first statement.

        The caller commits; anything not committed is rolled back.
        """
        lock = self._write_lock
        if lock is None:
            async with self._write() as session:
                try:
                    yield session
                except BaseException:
                    await session.rollback()
                    raise
            return
        async with lock, self._write() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


_DATABASE = "window_service.database"


def session_audit_key(session: AsyncSession) -> AuditKey:
    """The audit key of the database a write session belongs to."""
    database = session.info.get(_DATABASE)
    if database is None:
        raise RuntimeError("not a write session of window_service.db.Database: no audit key")
    key: AuditKey = database.chain_key()
    return key


def create_database(
    url: str, *, echo: bool = False, pool_size: int = 10, audit_key: AuditKey | None = None
) -> Database:
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        # JSON columns hold the canonical text the audit chain hashes (sorted keys, no
        # spaces): a row's JSON is the same text whichever way it was written.
        write = create_async_engine(
            url,
            echo=echo,
            # The issuing batch's multi-row INSERTs differ by their row count: keep them all
            # prepared (sqlite3 keeps 128 by default).
            connect_args={**connect_args, "cached_statements": 512},
            pool_size=4,
            pool_reset_on_return=None,  # see _setup_sqlite's reset
            json_serializer=canonical_json,
        )
        read = create_async_engine(
            url,
            echo=echo,
            connect_args=connect_args,
            pool_size=8,
            pool_reset_on_return=None,
            json_serializer=canonical_json,
        )
        _setup_sqlite(write, immediate=True)
        _setup_sqlite(read, immediate=False)
        return Database(url, write, read, audit_key)
    # PostgreSQL's json type keeps the text as written: the canonical text, as on SQLite.
    # No JIT: the office's period queries are estimated costly enough for PostgreSQL to
    # compile them, which took longer than running them (province bench: 235 of 419 ms).
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        json_serializer=canonical_json,
        connect_args={"server_settings": {"jit": "off"}},
    )
    _setup_postgresql(engine)
    return Database(url, engine, engine, audit_key)


def _setup_postgresql(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """Every connection taken from the pool is checked first: after a database restart
        a dead one is replaced before any statement fails (the pool tries up to three times).

        SQLAlchemy's own ``pool_pre_ping`` costs three round trips on asyncpg (a transaction
        around the ping, for pgbouncer's transaction mode); one empty statement is enough.
        """
        try:
            dbapi_connection.run_async(lambda driver: driver.fetchval(";"))
        except Exception as exc:
            raise DisconnectionError("数据库连接已断开 (database connection lost)") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)
