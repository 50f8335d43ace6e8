"""Ticket numbers: per hall × prefix × business day, from 001, never repeated, never skipped.

The counter row is upserted and incremented in the ticket's own transaction. PostgreSQL holds
the counter row's lock until commit, and SQLite's writer holds the database's write lock
(``BEGIN IMMEDIATE``), so two issuers never read the same value; a failed insert rolls its
increment back, so no number is lost.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import TicketCounter


async def next_number(session: AsyncSession, hall_id: int, prefix: str, day: date) -> int:
    assert session.bind is not None
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(hall_id=hall_id, prefix=prefix, business_day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.hall_id, table.c.prefix, table.c.business_day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return int((await session.execute(stmt)).scalar_one())


def format_number(prefix: str, n: int) -> str:
    """A001 … A999, then A1000: three digits at least, as halls print them."""
    return f"{prefix}{n:03d}"
