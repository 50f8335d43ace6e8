"""SQLAlchemy's aiosqlite adapter, with one thread hop per statement instead of three or four.

aiosqlite runs every call on the connection's own thread: the caller queues the call, the
thread wakes, runs it, and wakes the event loop with the result. SQLAlchemy's adapter makes one
such call to open a cursor, one to execute, one to fetch the rows and one to close the cursor,
and one to roll back a transaction that has already ended. On a small machine each hop costs
0.1-0.3 ms of two thread wake-ups, so a staff member's call-next (about a dozen statements)
spent most of its time in hops, and every display waited for it.

Here one hop opens the cursor, executes, fetches every row and closes the cursor; the rows,
``description``, ``rowcount`` and ``lastrowid`` stay readable afterwards (sqlite3 keeps them on
a closed cursor). COMMIT and ROLLBACK are sent only when the connection is in a transaction.
Everything else is SQLAlchemy's own adapter: the engine is created with
``module=fast_aiosqlite_dbapi()`` (see ``db.create_database``).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection

T = TypeVar("T")


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[sqlite3.Cursor, list[Any] | None]:
    """On the connection's thread: the whole statement, from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
    finally:
        cursor.close()
    return cursor, rows


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement, rows and close travel to the database thread together."""

    __slots__ = ()

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        # Opened on the database thread with the statement (see ``_run``).
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()

    async def _one_hop(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's own queue to its thread (what its cursor methods use).
            cursor, rows = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, operation, parameters, many
            )
        self._cursor = cursor  # type: ignore[assignment]
        self._rows = collections.deque(rows) if rows is not None else collections.deque()
        # Already closed: SQLAlchemy reads the description from here, and close() is free.
        self._soft_closed_memoized = {"description": cursor.description}  # type: ignore[assignment]

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._one_hop(operation, parameters, False)
        return self._cursor

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._one_hop(operation, seq_of_parameters, True)
        return self._cursor

    async def _async_soft_close(self) -> None:
        return None  # the cursor was closed on the database thread

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneHopCursor

    def _in_transaction(self) -> bool:
        conn: sqlite3.Connection | None = self._connection._connection  # type: ignore[attr-defined]
        # A plain attribute read (no statement runs): safe from the event loop's thread
        # while no call of this connection is queued, which the adapter's awaits ensure.
        return conn is not None and conn.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def fast_aiosqlite_dbapi() -> OneHopDBAPI:
    """The DB-API module to pass as ``create_async_engine(..., module=...)`` for SQLite."""
    return OneHopDBAPI(aiosqlite, sqlite3)


class WriterBusy(Exception):
    """Another process holds SQLite's write lock (``write_here`` does not wait for it)."""


#: Statements a ``write_here`` function leaves for the connection's thread: SQL and parameters.
Later = list[tuple[str, Sequence[Any]]]


async def write_here(
    pooled: PoolProxiedConnection, busy_timeout_ms: int, fn: Callable[..., T], *args: Any
) -> T:
    """``fn(sqlite3_connection, later, *args)`` in a transaction begun with ``BEGIN
    IMMEDIATE`` right here on the event loop's thread; the statements ``fn`` appends to
    ``later``, then the COMMIT, in one call on the connection's thread.

    For a writer whose whole transaction is known in advance (the issuing batch). What it
    must read under the lock (a counter, the ledger) it reads here: a few microseconds each
    from SQLite's page cache, far less than sending each statement to the connection's
    thread (two thread wake-ups, and the thread waiting for the GIL while the event loop
    works). What only writes goes to ``later``: the INSERTs (every index to update), the
    COMMIT (the WAL write, and a checkpoint now and then). The connection's thread runs them
    while the event loop serves other requests; sqlite3 lets go of the GIL while a statement
    runs, so they use the other core.
    BEGIN does not wait either: when another process holds the write lock it raises
    ``WriterBusy`` at once (the caller then writes the ordinary way, which waits in the
    thread). ``fn`` may end the transaction itself (ROLLBACK; ``later`` is then dropped); if
    it or a later statement raises, the transaction is rolled back. The connection must
    allow use from this thread (``check_same_thread=False``); the caller holds the process's
    writer lock, so no other call of this connection is under way.
    """
    connection: aiosqlite.Connection = pooled.driver_connection  # type: ignore[assignment]
    conn: sqlite3.Connection = connection._conn
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        raise WriterBusy from exc
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    later: Later = []
    try:
        result = fn(conn, later, *args)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if conn.in_transaction:
        try:
            await connection._execute(run_and_commit, conn, later)  # type: ignore[no-untyped-call]
        except BaseException:
            # Cancelled: the call may still be queued, and the rollback goes after it (the
            # pool's reset, if not here).
            if conn.in_transaction:
                await connection._execute(conn.execute, "ROLLBACK")  # type: ignore[no-untyped-call]
            raise
    return result


def run_and_commit(conn: sqlite3.Connection, later: Later) -> None:
    """On the connection's thread: ``later``'s statements, then COMMIT; ROLLBACK if one fails
    (a failed COMMIT leaves the transaction open too)."""
    try:
        for sql, params in later:
            conn.execute(sql, params)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def storage(table: Any, dialect: Dialect) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Each column of ``table`` with the function that turns a Python value into what
    SQLAlchemy stores for it on SQLite (timestamps as UTC text, JSON as text, ...): a row
    written with plain sqlite3 is then the row SQLAlchemy would have written."""
    return [(c.name, c.type._cached_bind_processor(dialect)) for c in table.columns]


def reader(type_: Any, dialect: Dialect) -> Callable[[Any], Any]:
    """The function that turns a stored value back into Python, as SQLAlchemy reads it."""
    process = type_._cached_result_processor(dialect, None)
    return process if process is not None else (lambda value: value)
