"""Receipt numbers (受理编号): hall code + business day + sequence, e.g. DEMO-20261126-0001.

Like ticket numbers, the counter row is upserted and incremented in the case's own
transaction, so numbers never repeat and never skip on SQLite or PostgreSQL.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CaseCounter

CHECK_CODE_DIGITS = 6


async def next_receipt_seq(session: AsyncSession, hall_id: int, day: date) -> int:
    assert session.bind is not None
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    table = CaseCounter.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(hall_id=hall_id, business_day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.hall_id, table.c.business_day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return int((await session.execute(stmt)).scalar_one())


def format_receipt_no(hall_code: str, day: date, seq: int) -> str:
    return f"{hall_code.upper()}-{day:%Y%m%d}-{seq:04d}"


def new_check_code() -> str:
    """A random 6-digit code printed on the receipt, asked for by the public lookup."""
    return f"{secrets.randbelow(10**CHECK_CODE_DIGITS):0{CHECK_CODE_DIGITS}d}"
