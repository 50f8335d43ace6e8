"""Ticket numbers: per hall × prefix × business day, from 001, never repeated, never skipped.

The counter row is upserted and incremented in the ticket's own transaction. PostgreSQL holds
the counter row's lock until commit, and SQLite's writer holds the database's write lock
(``BEGIN IMMEDIATE``), so two issuers never read the same value; a failed insert rolls its
increment back, so no number is lost.

The same statement assigns the queue time: the request's time, but never earlier than the
previous number's. A request that read the clock and then waited for the counter lock behind a
later one would otherwise queue ahead of a smaller number (seen on PostgreSQL under load).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Date, Integer, String, bindparam, column, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import TZDateTime
from ..ledger import HallLedger
from ..sqlite_writes import fetch_all, from_db, to_db
from ..transaction import LedgerState

_LEDGER = HallLedger.__table__  # type: ignore[attr-defined]
#: The types of the business day and the queue time, as the counter's columns have them.
_DAY = Date()
_AT = TZDateTime()


@dataclass(frozen=True)
class Assigned:
    """``count`` consecutive numbers ending at ``last``, all with queue time ``queued_at``."""

    last: int
    count: int
    queued_at: datetime

    @property
    def numbers(self) -> range:
        return range(self.last - self.count + 1, self.last + 1)


async def next_numbers_and_ledger(
    session: AsyncSession, hall_id: int, day: date, at: datetime, counts: dict[str, int]
) -> tuple[dict[str, Assigned], LedgerState]:
    """Numbers for several prefixes at once (a batch of kiosk requests) and the hall's ledger
    row, in one statement, under the hall's locks.

    PostgreSQL: every issuer of the hall takes the ledger lock (which its commit needs
    anyway) and then the counters, in prefix order, in this one statement (the counters'
    insert reads the locked ledger row, so the order is fixed); the transaction's other
    writers take only the ledger, at commit. SQLite: the writer holds the database's write
    lock (``BEGIN IMMEDIATE``); the statement reads the ledger row with the counters. Either
    way one statement less while the hall's locks are held. A hall without a ledger row
    numbers nothing: its row is created and the statement runs again.
    """
    assert session.bind is not None and counts and all(k >= 1 for k in counts.values())
    prefixes = sorted(counts)
    params: dict[str, Any] = {"hall_id": hall_id, "day": day, "at": at}
    dialect = session.bind.dialect
    if dialect.name == "postgresql":
        params.update(prefixes=prefixes, counts=[counts[p] for p in prefixes])

        async def run() -> list[Any]:
            return list((await session.execute(_PG_NUMBERS_AND_LEDGER, params)).all())

        new_ledger: Any = postgresql.insert(_LEDGER)
        queued_at: Callable[[Any], Any] | None = None  # the result's types convert it
    else:
        # One trip to aiosqlite's thread (``sqlite_writes.py``), values converted as the
        # columns' types do.
        sql = _sqlite_numbers_and_ledger(len(prefixes))
        params.update(day=to_db(_DAY, dialect)(day), at=to_db(_AT, dialect)(at))
        for k, prefix in enumerate(prefixes):
            params[f"prefix_{k}"] = prefix
            params[f"count_{k}"] = counts[prefix]

        async def run() -> list[Any]:
            return await fetch_all(session, sql, params)

        new_ledger = sqlite.insert(_LEDGER)
        queued_at = from_db(_AT, dialect)
    rows = await run()
    if not rows:
        await session.execute(new_ledger.values(hall_id=hall_id).on_conflict_do_nothing())
        rows = await run()
    out = {
        str(prefix): Assigned(int(last), counts[prefix], queued_at(queued) if queued_at else queued)
        for prefix, last, queued, *_ in rows
    }
    assert set(out) == set(counts)
    _, _, _, event_seq, audit_seq, audit_hash, queue_version = rows[0]
    ledger = LedgerState(int(event_seq), int(audit_seq), str(audit_hash or ""), int(queue_version))
    return out, ledger


#: Both databases' counter upsert: the numbers are added, and the queue time never goes back
#: (see the module docstring).
_COUNTER_UPSERT = """ON CONFLICT (hall_id, prefix, business_day) DO UPDATE SET
        last_number = ticket_counter.last_number + excluded.last_number,
        last_queued_at = CASE
            WHEN ticket_counter.last_queued_at IS NOT NULL
                 AND ticket_counter.last_queued_at > excluded.last_queued_at
            THEN ticket_counter.last_queued_at
            ELSE excluded.last_queued_at END
        RETURNING prefix, last_number, last_queued_at"""


def _numbered_columns() -> tuple[Any, ...]:
    """The columns both upserts return."""
    return (
        column("prefix", String),
        column("last_number", Integer),
        column("last_queued_at", TZDateTime),
    )


def _ledger_columns() -> tuple[Any, ...]:
    """The ledger row's columns both statements return after the numbers."""
    return (
        column("last_event_seq", Integer),
        column("audit_seq", Integer),
        column("audit_hash", String),
        column("queue_version", Integer),
    )


def _numbering_params() -> tuple[Any, ...]:
    """The values both upserts bind besides the prefixes and counts."""
    return (
        bindparam("hall_id", type_=Integer),
        bindparam("day", type_=Date),
        bindparam("at", type_=TZDateTime),
    )


_PG_NUMBERS_AND_LEDGER = (
    text(
        f"""
    WITH ledger AS (
        SELECT last_event_seq, audit_seq, audit_hash, queue_version
        FROM hall_ledger WHERE hall_id = :hall_id FOR UPDATE
    ), numbered AS (
        INSERT INTO ticket_counter (hall_id, prefix, business_day, last_number, last_queued_at)
        SELECT :hall_id, v.prefix, :day, v.n, :at
        FROM ledger, unnest(CAST(:prefixes AS varchar[]), CAST(:counts AS integer[]))
             AS v(prefix, n)
        ORDER BY v.prefix
        {_COUNTER_UPSERT}
    )
    SELECT numbered.prefix, numbered.last_number, numbered.last_queued_at,
           ledger.last_event_seq, ledger.audit_seq, ledger.audit_hash, ledger.queue_version
    FROM numbered, ledger
    """
    )
    .columns(*_numbered_columns(), *_ledger_columns())
    .bindparams(
        *_numbering_params(),
        bindparam("prefixes", type_=ARRAY(String)),
        bindparam("counts", type_=ARRAY(Integer)),
    )
)


@functools.lru_cache(maxsize=32)
def _sqlite_numbers_and_ledger(prefixes: int) -> str:
    """SQLite's statement for ``prefixes`` counters (parameters ``prefix_K``, ``count_K``),
    its text fixed per size so that sqlite3 prepares it once. As on PostgreSQL the counters
    are inserted from the ledger row, so a hall without one numbers nothing."""
    values = ", ".join(f"(:prefix_{k}, :count_{k})" for k in range(prefixes))
    ledger = ", ".join(
        f"(SELECT {c} FROM hall_ledger WHERE hall_id = :hall_id)"
        for c in ("last_event_seq", "audit_seq", "audit_hash", "queue_version")
    )
    return f"""
    INSERT INTO ticket_counter (hall_id, prefix, business_day, last_number, last_queued_at)
    SELECT :hall_id, v.column1, :day, v.column2, :at
    FROM (VALUES {values}) AS v, hall_ledger
    WHERE hall_ledger.hall_id = :hall_id
    {_COUNTER_UPSERT}, {ledger}
    """


def format_number(prefix: str, n: int) -> str:
    """A001 … A999, then A1000: three digits at least, as halls print them."""
    return f"{prefix}{n:03d}"
