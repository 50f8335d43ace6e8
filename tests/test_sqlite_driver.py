"""SQLite through SQLAlchemy's own aiosqlite dialect: results and errors as a caller sees them.

Writes take the write lock with their first statement (``BEGIN IMMEDIATE``); a failed
statement rolls its whole transaction back and arrives as SQLAlchemy's exception.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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
