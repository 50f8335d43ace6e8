"""Whether a write transaction changed the queue: any write to a queue table marks its session.

Issuers keep the waiting counts their last batch ended with and trust them while the hall's
``hall_ledger.queue_version`` stays the same (``queue/waiting.py``). ``Tx.commit`` bumps that
version when the transaction wrote a row of a table named by ``queue_table``, seen here from
the session itself: an ORM flush of such a row, or an INSERT, UPDATE or DELETE statement on
it through ``session.execute``. Nothing else bumps it (events and audit records do not), and
issuing, which the kept counts follow by themselves, leaves it (``Tx.issuing_only``). So a new
kind of queue change needs no step of its own; only SQL text written by hand on a queue
table goes unseen, and such code calls ``tx.queue_changed()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session

#: The names of the tables whose rows the waiting counts are made of.
_QUEUE_TABLES: set[str] = set()
_CHANGED = "window_service.queue_changed"


def queue_table(table: Table) -> None:
    """Declare ``table`` part of the queue: a transaction that writes it bumps the version."""
    _QUEUE_TABLES.add(table.name)


def mark_changed(session: Session) -> None:
    session.info[_CHANGED] = True


def take_changed(session: Session) -> bool:
    """Whether the session wrote a queue table since the last call (and forget it)."""
    return bool(session.info.pop(_CHANGED, False))


def is_queue(table: Any) -> bool:
    """Whether ``table`` was declared part of the queue (``queue_table``)."""
    return getattr(table, "name", None) in _QUEUE_TABLES


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, flush_context: Any, instances: Any) -> None:
    if _CHANGED in session.info:
        return
    for rows in (session.new, session.dirty, session.deleted):
        for row in rows:
            if is_queue(getattr(type(row), "__table__", None)):
                mark_changed(session)
                return


@event.listens_for(Session, "do_orm_execute")
def _executing(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and is_queue(
        getattr(state.statement, "table", None)
    ):
        mark_changed(state.session)
