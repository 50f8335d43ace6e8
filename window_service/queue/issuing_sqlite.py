"""SQLite: an issuing batch written with plain sqlite3 calls, its writes on the database's thread.

aiosqlite runs each statement on the connection's thread and wakes the event loop with the
result. An issuing batch through SQLAlchemy is about eight statements (begin, numbering, the
ledger row, the tickets, the events, the audit records, the ledger update, commit): eight
trips, each waiting for two thread wake-ups and for the GIL, which the busy event loop
holds, plus SQLAlchemy's work to build and process each statement. On a busy
single-process hall that was most of the cost of a ticket (bench/issue.py).

Here the transaction is one function, ``write_batch``, run by ``db_sqlite.write_here``. What
it must read under the write lock (the idempotency keys, the ledger, the counters, the highest
ticket id) runs on the event loop's thread: microseconds each, from SQLite's page cache. The
tickets get their ids there, the next after the highest (as SQLite would give them: the lock
is held), so their events and audit records are built before anything is inserted. Its
INSERTs (one multi-row statement per table) and the ledger's update go to ``later``: they run
with the COMMIT, in one call, on the connection's thread, where sqlite3 lets go of the GIL
while they update the indexes and write the WAL. It does what ``service.issue_tickets`` does,
with the same pieces: ``sort_requests`` decides which requests get a number, the same counter
upsert numbers them, ``ticket_rows`` builds the rows, ``record_issued`` audits and announces
each ticket and ``Recording.seal`` numbers the events and chains the audit records. Values are
stored with SQLAlchemy's own conversions (``db_sqlite.storage``), so the rows are the ones the
general path writes. Nothing in here may wait: no lock, no disk flush.

It applies only when the queue's counts are known without reading tickets under the lock
(``waiting.counts_unread``: the counts taken before the batch are still those of the hall's
``queue_version``). Otherwise it changes nothing and says so (None), and the batch goes the
general way, which counts the queue under the lock.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Dialect

from ..api.errors import ApiError
from ..chain import ChainKey
from ..db_sqlite import Later, reader, storage
from ..halls.lookup import business_day, issuing_open
from ..halls.models import Hall
from ..ledger import AuditRecord, HallEvent
from ..transaction import Event, LedgerState, Record
from .models import FoundTicket, Ticket, TicketCounter
from .numbering import Assigned, counter_upsert_params, counter_upsert_sql
from .service import (
    IssueRequest,
    IssueResult,
    concerned_services,
    lanes_stay_exact,
    numbers_of,
    prefix_groups,
    record_issued,
    sort_requests,
    ticket_rows,
)
from .waiting import WaitingSnapshot, counts_after, counts_unread, usable


@dataclass
class Job:
    """One hall's batch, as ``write_batch`` needs it."""

    hall: Hall
    requests: list[IssueRequest]
    record: Record
    waiting: WaitingSnapshot
    sql: Statements
    #: The audit key the batch's records are sealed with (the database's).
    key: ChainKey


@dataclass
class Written:
    """What the batch did: an answer per request, and when it committed (``events``, even
    empty, is then not None) the events to publish and the counts to keep."""

    results: list[IssueResult | ApiError]
    events: list[Event] | None
    after: WaitingSnapshot | None


def write_batch(conn: sqlite3.Connection, later: Later, job: Job) -> Written | None:
    """In a transaction begun by ``db_sqlite.write_here``: the batch, or None (rolled back,
    nothing written) when the queue must be counted under the lock, which the general path
    does. A batch that issued nothing is rolled back too. One that did leaves its INSERTs
    and the ledger's update in ``later``: ``write_here`` runs them and commits on the
    connection's thread."""
    written = _write(conn, later, job)
    if written is None or written.events is None:
        later.clear()
        conn.execute("ROLLBACK")
    return written


def _write(conn: sqlite3.Connection, later: Later, job: Job) -> Written | None:
    hall, requests, record, sql = job.hall, job.requests, job.record, job.sql
    assert hall.id is not None
    day = business_day(hall, record.now)
    known = _known_keys(conn, sql, hall.id, day, requests)
    sorted_out = sort_requests(hall, requests, known, issuing_open(hall, record.now))
    results, fresh = sorted_out.results, sorted_out.fresh
    events: list[Event] | None = None
    after: WaitingSnapshot | None = None
    if fresh:
        ledger = _ledger(conn, hall.id)
        if ledger is None or not usable(job.waiting, day, ledger.queue_version):
            return None
        by_prefix = prefix_groups(requests, fresh)
        assigned = _number(conn, sql, hall.id, day, record.now, by_prefix)
        concerned = concerned_services(requests, fresh)
        numbered_before = {p: a.last - a.count for p, a in assigned.items()}
        lanes_needed = any(requests[i].priority is not None for i in fresh)
        waiting = counts_unread(job.waiting, concerned, numbered_before, lanes_needed)
        if waiting is None or (lanes_needed and not job.waiting.lanes_exact):
            return None
        lanes_exact = lanes_stay_exact(
            job.waiting, day, ledger.queue_version, numbered_before, lanes_needed
        )
        rows = ticket_rows(hall.id, day, requests, fresh, numbers_of(by_prefix, assigned))
        _insert_tickets(conn, later, sql, rows)
        record_issued(record, requests, fresh, rows, waiting, results)
        sealed = record.seal(ledger, job.key)
        later.append(sql.insert("hall_event", sealed.event_rows))
        # ``after`` as the text its hash was computed over: the same JSON, serialized once.
        later.append(sql.insert("audit_record", sealed.audit_rows, {"after": sealed.after_json}))
        new = sealed.ledger
        later.append(
            (
                sql.update_ledger,
                (new.last_event_seq, new.audit_seq, new.audit_hash, new.queue_version, hall.id),
            )
        )
        events = sealed.events
        issued = {p: a.last for p, a in assigned.items()}
        after = counts_after(
            job.waiting,
            day,
            concerned,
            waiting,
            issued,
            ledger.queue_version,
            lanes_exact=lanes_exact,
        )
    sorted_out.answer_repeats()
    return Written([r for r in results if r is not None], events, after)


def _known_keys(
    conn: sqlite3.Connection, sql: Statements, hall_id: int, day: date, requests: list[IssueRequest]
) -> dict[str, FoundTicket]:
    """Today's tickets already issued under the batch's idempotency keys."""
    keys = sorted({r.idempotency_key for r in requests if r.idempotency_key})
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    rows = conn.execute(
        "SELECT idempotency_key, id, service_id FROM ticket "
        f"WHERE hall_id = ? AND business_day = ? AND idempotency_key IN ({marks})",
        (hall_id, sql.day(day), *keys),
    ).fetchall()
    return {key: FoundTicket(ticket_id, service_id) for key, ticket_id, service_id in rows}


def _insert_tickets(
    conn: sqlite3.Connection, later: Later, sql: Statements, rows: list[dict[str, Any]]
) -> None:
    """The batch's tickets get their ids here, the next ones after the highest (as SQLite
    would give them: the write lock is held), so that their events and audit records can be
    written with them; their INSERT goes to ``later``."""
    last = conn.execute("SELECT max(id) FROM ticket").fetchone()[0] or 0
    for n, row in enumerate(rows, start=last + 1):
        row["id"] = n
    later.append(sql.insert("ticket", rows))


def _ledger(conn: sqlite3.Connection, hall_id: int) -> LedgerState | None:
    row = conn.execute(
        "SELECT last_event_seq, audit_seq, audit_hash, queue_version FROM hall_ledger "
        "WHERE hall_id = ?",
        (hall_id,),
    ).fetchone()
    if row is None:  # a hall that never wrote: the general path creates its ledger row
        return None
    return LedgerState(int(row[0]), int(row[1]), str(row[2] or ""), int(row[3]))


def _number(
    conn: sqlite3.Connection,
    sql: Statements,
    hall_id: int,
    day: date,
    now: datetime,
    by_prefix: dict[str, list[int]],
) -> dict[str, Assigned]:
    """``numbering.next_numbers``, the same statement, run here."""
    counts = {prefix: len(members) for prefix, members in by_prefix.items()}
    prefixes, params = counter_upsert_params(hall_id, sql.day(day), sql.at(now), counts)
    rows = conn.execute(counter_upsert_sql(len(prefixes)), params).fetchall()
    out = {
        str(prefix): Assigned(int(last), counts[prefix], sql.queued_at(queued))
        for prefix, last, queued in rows
    }
    assert set(out) == set(counts)
    return out


class Statements:
    """The batch's INSERTs and the conversions of their values, for one SQLAlchemy dialect."""

    def __init__(self, dialect: Dialect) -> None:
        ticket = Ticket.__table__  # type: ignore[attr-defined]
        event = HallEvent.__table__  # type: ignore[attr-defined]
        audit = AuditRecord.__table__  # type: ignore[attr-defined]
        # A ticket is written with its id (see _insert_tickets); events and audit records
        # get theirs from SQLite.
        self._tables = {
            "ticket": _Table(ticket.name, storage(ticket, dialect)),
            "hall_event": _Table(event.name, _without_id(storage(event, dialect))),
            "audit_record": _Table(audit.name, _without_id(storage(audit, dialect))),
        }
        self.update_ledger = (
            "UPDATE hall_ledger SET last_event_seq = ?, audit_seq = ?, audit_hash = ?, "
            "queue_version = ? WHERE hall_id = ?"
        )
        counter = TicketCounter.__table__.c  # type: ignore[attr-defined]
        self.day = counter.business_day.type._cached_bind_processor(dialect)
        self.at = counter.last_queued_at.type._cached_bind_processor(dialect)
        self.queued_at = reader(counter.last_queued_at.type, dialect)

    def insert(
        self, table: str, rows: list[dict[str, Any]], stored: dict[str, list[Any]] | None = None
    ) -> tuple[str, list[Any]]:
        """One INSERT of ``rows`` into ``table`` (a multi-row VALUES), with its parameters
        as SQLAlchemy would store them. ``stored`` gives columns whose values are in their
        stored form already, one per row (the audit records' ``after`` as JSON text)."""
        t = self._tables[table]
        params: list[Any] = []
        # A batch repeats its timestamps, days and empty columns: each converted once.
        converted: dict[tuple[int, Any], Any] = {}
        for r, row in enumerate(rows):
            for n, (name, fn) in enumerate(t.columns):
                if stored is not None and name in stored:
                    params.append(stored[name][r])
                    continue
                value = row[name]
                if fn is None:
                    params.append(value)
                elif type(value) in _REPEATED:
                    key = (n, value)
                    if key not in converted:
                        converted[key] = fn(value)
                    params.append(converted[key])
                else:
                    params.append(fn(value))
        return t.sql(len(rows)), params


#: Values of these types are converted once per batch (``Statements.insert``).
_REPEATED = frozenset({datetime, date, bool, type(None)})


class _Table:
    def __init__(self, name: str, columns: list[tuple[str, Callable[[Any], Any] | None]]):
        self.columns = columns
        names = ", ".join(f'"{column}"' for column, _ in columns)
        self._head = f'INSERT INTO "{name}" ({names}) VALUES '
        self._row = f"({', '.join('?' * len(columns))})"

    @functools.lru_cache(maxsize=64)  # noqa: B019 (three per dialect, kept)
    def sql(self, n: int) -> str:
        return self._head + ", ".join([self._row] * n)


def _without_id(
    columns: list[tuple[str, Callable[[Any], Any] | None]],
) -> list[tuple[str, Callable[[Any], Any] | None]]:
    return [(name, fn) for name, fn in columns if name != "id"]


@functools.lru_cache(maxsize=4)
def statements(dialect: Dialect) -> Statements:
    return Statements(dialect)
