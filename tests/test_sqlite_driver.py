"""The SQLite adapter (window_service.db_sqlite): one trip to the database thread per statement.

A staff member's call-next is a dozen statements; each trip to aiosqlite's thread costs two
thread wake-ups, and every display in the hall waits for the call. These tests pin down that a
statement costs one trip, that nothing a caller reads from a result is lost by closing the
cursor early, and that errors still arrive as SQLAlchemy's exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from window_service.db import Database, create_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'one-hop.db'}")
    async with database.write() as session:
        await session.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        await session.commit()
    async with database.read() as session:  # open the read pool's connection beforehand
        await session.execute(text("SELECT 1"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call queued to a connection's database thread, by function name."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield seen


async def test_a_statement_is_one_trip_and_keeps_its_rows(db: Database, trips: list[str]) -> None:
    async with db.write() as session:
        inserted = await session.execute(
            text("INSERT INTO item (name) VALUES ('A001'), ('A002') RETURNING id, name")
        )
        assert [tuple(r) for r in inserted] == [(1, "A001"), (2, "A002")]
        updated = await session.execute(text("UPDATE item SET name = name || '!'"))
        assert updated.rowcount == 2  # type: ignore[attr-defined]
        await session.commit()
    # BEGIN IMMEDIATE, INSERT … RETURNING, UPDATE, COMMIT: four trips, no cursor open/close.
    assert trips == ["_run", "_run", "_run", "commit"]

    trips.clear()
    async with db.read() as session:
        result = await session.execute(text("SELECT name FROM item ORDER BY id"))
        assert result.keys() == ["name"]
        assert result.scalars().all() == ["A001!", "A002!"]
    # BEGIN, SELECT, and the ROLLBACK that ends the read transaction.
    assert trips == ["_run", "_run", "rollback"]


async def test_lastrowid_and_many_rows(db: Database) -> None:
    async with db.write() as session:
        conn = await session.connection()
        result = await conn.exec_driver_sql("INSERT INTO item (name) VALUES ('B001')")
        assert result.lastrowid == 1
        await conn.exec_driver_sql(
            "INSERT INTO item (name) VALUES (?)", [(f"C{n:03d}",) for n in range(1, 301)]
        )
        await session.commit()
    async with db.read() as session:
        names = (await session.execute(text("SELECT name FROM item ORDER BY id"))).scalars()
        assert list(names)[-1] == "C300"


async def test_errors_are_sqlalchemy_errors_and_roll_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await session.execute(text("INSERT INTO item (name) VALUES ('D001')"))
            await session.execute(text("INSERT INTO item (name) VALUES ('D001')"))
            await session.commit()
    with pytest.raises(OperationalError):
        async with db.read() as session:
            await session.execute(text("SELECT nothing FROM nowhere"))
    async with db.read() as session:
        count = (await session.execute(text("SELECT count(*) FROM item"))).scalar_one()
    assert count == 0  # the first insert was rolled back with the failed one
