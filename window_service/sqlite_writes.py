"""A write transaction's hot statements on SQLite, one trip each to aiosqlite's thread.

SQLAlchemy's aiosqlite dialect spends three or four trips to the driver's thread on every
statement (open a cursor, run it, fetch its rows, close the cursor), and each trip is a
thread hand-off that, on a busy machine, waits for the scheduler. The statements of the
issuing batch and of every commit (``numbering.next_numbers_and_ledger``, the new tickets,
the events, the audit records, the ledger row) therefore go to the aiosqlite connection of
the session's own transaction directly, one trip each, through public APIs only:
``AsyncConnection.get_raw_connection``, ``PoolProxiedConnection.driver_connection`` and
aiosqlite's ``execute_fetchall`` and ``executemany``.

Values are converted by the columns' own types for this dialect (``TypeEngine.dialect_impl``
and its ``bind_processor``/``result_processor``, as SQLAlchemy converts them), so the rows
are stored exactly as a statement through the session would store them, and a write to a
queue table marks the session as ``session.execute`` would (``queue_changes.py``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from .queue_changes import is_queue, mark_changed

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=256)
def to_db(type_: TypeEngine[Any], dialect: Dialect) -> Convert:
    """How ``type_`` turns a value into the driver's on ``dialect``."""
    return type_.dialect_impl(dialect).bind_processor(dialect) or _same


@functools.lru_cache(maxsize=256)
def from_db(type_: TypeEngine[Any], dialect: Dialect) -> Convert:
    """How ``type_`` turns the driver's value into Python's on ``dialect``."""
    return type_.dialect_impl(dialect).result_processor(dialect, None) or _same


async def _driver(session: AsyncSession) -> Any:
    """The aiosqlite connection of the session's transaction (begun if it was not)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _dialect(session: AsyncSession) -> Dialect:
    assert session.bind is not None
    return session.bind.dialect


async def fetch_all(
    session: AsyncSession, sql: str, params: Sequence[Any] | dict[str, Any]
) -> list[Any]:
    """The rows of one statement (values already converted, see ``to_db``): one trip."""
    return list(await (await _driver(session)).execute_fetchall(sql, params))


@functools.lru_cache(maxsize=64)
def _insert_plan(table: Table, names: tuple[str, ...], dialect: Dialect) -> _InsertPlan:
    quoted = ", ".join(f'"{name}"' for name in names)
    return _InsertPlan(
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ',
        f"({', '.join('?' * len(names))})",
        operator.itemgetter(*names),
        tuple(to_db(table.c[name].type, dialect) for name in names),
    )


class _InsertPlan:
    """An INSERT's head, one row's placeholders, a row's values in order and their
    conversions."""

    __slots__ = ("converts", "head", "one", "values")

    def __init__(
        self, head: str, one: str, values: Callable[[Any], Any], converts: tuple[Convert, ...]
    ) -> None:
        self.head, self.one, self.values, self.converts = head, one, values, converts

    def row(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = self.values(row)
        if len(self.converts) == 1:
            values = (values,)
        return tuple(convert(v) for convert, v in zip(self.converts, values, strict=True))


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: list[dict[str, Any]],
    returning: tuple[str, ...] = (),
) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys, values as the ORM would take them): one
    trip. With ``returning``, one multi-row INSERT that returns those columns of each row
    (in no promised order); else one ``executemany``. (On another database, through the
    session.)"""
    if not rows:
        return []
    dialect = _dialect(session)
    if dialect.name != "sqlite":
        stmt = insert(table)
        if returning:
            stmt = stmt.returning(*(table.c[name] for name in returning))
        result = await session.execute(stmt, rows)
        return list(result.all()) if returning else []
    plan = _insert_plan(table, tuple(rows[0]), dialect)
    if is_queue(table):
        mark_changed(session.sync_session)
    driver = await _driver(session)
    if returning:
        flat = [value for row in rows for value in plan.row(row)]
        sql = f"{plan.head}{', '.join([plan.one] * len(rows))} RETURNING {', '.join(returning)}"
        return list(await driver.execute_fetchall(sql, flat))
    await driver.executemany(plan.head + plan.one, [plan.row(row) for row in rows])
    return []
