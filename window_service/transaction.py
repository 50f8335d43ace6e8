"""One write transaction of a hall: its changes, the events it tells the screens, its audit trail.

Domain services change rows through an ``AsyncSession`` and describe what happened with
``tx.emit(...)`` (for screens) and ``tx.audit(...)`` (for the record). ``commit()`` then, as the
last step before COMMIT, locks the hall's ledger row, numbers the events gap-free, chains the
audit records, and (on PostgreSQL) queues a NOTIFY that other processes receive after commit.
Everything lands together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from .chain import (
    GENESIS_HASH,
    ChainKey,
    canonical_json,
    record_hash,
    snapshot,
    to_jsonable,
)
from .db import session_audit_key
from .ledger import AuditRecord, HallEvent, HallLedger
from .pg_commit import AUDIT_FIELDS, EVENT_FIELDS, commit_statement, iso_default, json_rows
from .queue_changes import take_changed
from .sqlite_writes import fetch_all, insert_rows

NOTIFY_CHANNEL = "window_service_events"
#: The payload key naming the department an event concerns (see ``Recording.emit``).
DEPARTMENT_KEY = "department_id"
_LEDGER = HallLedger.__table__  # type: ignore[attr-defined]
_EVENTS = HallEvent.__table__  # type: ignore[attr-defined]
_AUDIT = AuditRecord.__table__  # type: ignore[attr-defined]
_SQLITE_LEDGER_UPDATE = (
    "UPDATE hall_ledger SET last_event_seq = ?, audit_seq = ?, audit_hash = ?, "
    "queue_version = ? WHERE hall_id = ?"
)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in user, a device, or the system itself."""

    label: str
    user_id: int | None = None
    device_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


@dataclass(frozen=True)
class Event:
    """An event as it goes to clients: ``{"type", "seq", **payload}``."""

    hall_id: int
    seq: int
    type: str
    payload: dict[str, Any]

    def message(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, **self.payload}

    @property
    def department_id(self) -> int | None:
        """The department the event concerns (``emit(..., department_id=)``), if any: who
        may read an ``office.*`` event's payload depends on it (``realtime.subscriber.Audience``)."""
        value = self.payload.get(DEPARTMENT_KEY)
        return value if type(value) is int else None


@dataclass
class _PendingAudit:
    action: str
    obj: SQLModel | None
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    actor: Actor | None = None


AfterCommit = Callable[[list[Event]], None]


class Recording:
    """What a write transaction records besides its rows: the events it tells the screens
    (``emit``) and its audit trail (``audit``), numbered and chained by ``seal`` under the
    hall's ledger lock (``Tx`` writes them)."""

    hall_id: int
    now: datetime
    actor: Actor
    after_commit: AfterCommit | None
    locked_ledger: LedgerState | None
    issuing_only: bool
    changes_queue: bool
    _events: list[tuple[str, dict[str, Any]]]
    _audits: list[_PendingAudit]

    def emit(self, type_: str, *, department_id: int | None = None, **payload: Any) -> None:
        """Tell the hall's screens something happened (numbered at commit).

        ``department_id``: the department the event concerns. It is kept in the payload (so
        it travels through the log to every process) and decides who reads an ``office.*``
        payload: the hall's inspectors and admins always, a head only for their own
        departments; an event naming no department is for inspectors and admins only.
        """
        if department_id is not None:
            payload[DEPARTMENT_KEY] = department_id
        self._events.append((type_, to_jsonable(payload)))

    def audit(
        self,
        action: str,
        obj: SQLModel,
        *,
        before: dict[str, Any] | None = None,
        reason: str = "",
        actor: Actor | None = None,
    ) -> None:
        """Record a change of ``obj``; its state after the change is read at commit.

        ``actor`` names who made this change when one transaction carries several callers'
        changes (kiosk requests issued together); by default it is the transaction's actor.
        """
        self._audits.append(
            _PendingAudit(action, obj, obj.__tablename__, "", before, None, reason, actor)  # type: ignore[arg-type]
        )

    def audit_raw(
        self,
        action: str,
        entity: str,
        entity_id: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        reason: str = "",
        actor: Actor | None = None,
    ) -> None:
        """Record a change given as values: a configuration value, or a row written with Core
        (``after`` its ``row_snapshot``)."""
        self._audits.append(
            _PendingAudit(action, None, entity, entity_id, before, after, reason, actor)
        )

    def seal(self, ledger: LedgerState, key: ChainKey) -> Sealed:
        """The transaction's events numbered and its audit records chained after ``ledger``
        (the hall's ledger row, locked) and sealed with the audit ``key``: the rows to write
        and the ledger's new values.

        No statement runs here: ``commit`` writes the result.
        """
        first_seq = ledger.last_event_seq + 1
        events: list[Event] = []
        rows: list[dict[str, Any]] = []
        for offset, (type_, payload) in enumerate(self._events):
            seq = first_seq + offset
            events.append(Event(self.hall_id, seq, type_, payload))
            rows.append(
                {
                    "hall_id": self.hall_id,
                    "seq": seq,
                    "type": type_,
                    "payload": payload,
                    "created_at": self.now,
                }
            )
        audit_seq, audit_hash = ledger.audit_seq, ledger.audit_hash or GENESIS_HASH
        audit_rows = []
        for pending in self._audits:
            audit_seq += 1
            actor = (pending.actor or self.actor).label
            after = pending.after
            entity_id = pending.entity_id
            if pending.obj is not None:
                after = snapshot(pending.obj)
                entity_id = str(after.get("id", ""))
            text = canonical_json(after)
            digest = record_hash(
                key=key,
                hall_id=self.hall_id,
                seq=audit_seq,
                at=self.now,
                actor=actor,
                action=pending.action,
                entity=pending.entity,
                entity_id=entity_id,
                before=pending.before,
                after=after,
                reason=pending.reason,
                prev_hash=audit_hash,
                after_json=text,
            )
            audit_rows.append(
                {
                    "hall_id": self.hall_id,
                    "seq": audit_seq,
                    "at": self.now,
                    "actor": actor,
                    "action": pending.action,
                    "entity": pending.entity,
                    "entity_id": entity_id,
                    "before": pending.before,
                    "after": after,
                    "reason": pending.reason,
                    "prev_hash": audit_hash,
                    "hash": digest,
                }
            )
            audit_hash = digest
        self._events.clear()
        self._audits.clear()
        return Sealed(
            events,
            rows,
            audit_rows,
            LedgerState(
                ledger.last_event_seq + len(events),
                audit_seq,
                audit_hash,
                ledger.queue_version + (1 if self.changes_queue and not self.issuing_only else 0),
            ),
        )

    def committed(self, events: list[Event]) -> None:
        """After the commit: the events go to the screens."""
        self.locked_ledger = None
        if events and self.after_commit is not None:
            self.after_commit(events)


@dataclass
class Tx(Recording):
    session: AsyncSession
    hall_id: int
    now: datetime
    actor: Actor
    after_commit: AfterCommit | None = None
    #: The hall's ledger row, when a statement of this transaction already locked it (the
    #: PostgreSQL issuing statement locks it with the ticket counters); commit then does not
    #: read it again.
    locked_ledger: LedgerState | None = None
    #: True for a transaction that only issues new tickets: its commit leaves the hall's
    #: ``queue_version`` as it is (the issuers' kept counts follow new tickets themselves).
    issuing_only: bool = False
    #: Whether the commit bumps the hall's ``queue_version``: set when the session writes a
    #: queue table (``queue_changes.py``), whether or not anything is emitted or audited.
    changes_queue: bool = False
    _inserts: list[tuple[Table, list[dict[str, Any]]]] = field(default_factory=list)
    _events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _audits: list[_PendingAudit] = field(default_factory=list)

    def insert_at_commit(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (every column, ids included) as part of the commit.

        On PostgreSQL they travel in the commit's one statement, so a writer that already
        knows its rows (issuing, with ids reserved before the hall's locks) spends no round
        trip on them while those locks are held.
        """
        if rows:
            self._inserts.append((table, rows))

    def queue_changed(self) -> None:
        """Bump the queue version at commit: for a queue change the session cannot see
        (SQL text written by hand); every other write of a queue table is seen."""
        self.changes_queue = True

    async def commit(self) -> list[Event]:
        session = self.session
        await session.flush()
        events: list[Event] = []
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        inserts, self._inserts = self._inserts, []
        if not (postgres and (self._events or self._audits)):
            for table, table_rows in inserts:
                await insert_rows(session, table, table_rows)
            inserts = []
        if take_changed(session.sync_session):
            self.changes_queue = True
        if self._events or self._audits or (self.changes_queue and not self.issuing_only):
            sealed = self.seal(
                self.locked_ledger or await self.lock_ledger(), session_audit_key(session)
            )
            events, after = sealed.events, sealed.ledger
            message = f"{self.hall_id}:{events[-1].seq}" if events else ""
            if postgres:
                # One round trip while the hall's ledger row is locked (every write of the
                # hall waits for this lock, so its hold time bounds the hall's write rate):
                # events, audit records, the ledger and the NOTIFY in one statement whose
                # text never changes, the rows travelling as two JSON arrays.
                params: dict[str, Any] = {
                    f"rows_{k}": json.dumps(table_rows, ensure_ascii=False, default=iso_default)
                    for k, (_, table_rows) in enumerate(inserts)
                }
                await session.execute(
                    commit_statement(tuple(table.name for table, _ in inserts)),
                    {
                        **params,
                        "hall_id": self.hall_id,
                        "now": self.now,
                        "events": json_rows(sealed.event_rows, EVENT_FIELDS),
                        "audit": json_rows(sealed.audit_rows, AUDIT_FIELDS),
                        "last_event_seq": after.last_event_seq,
                        "audit_seq": after.audit_seq,
                        "audit_hash": after.audit_hash,
                        "queue_version": after.queue_version,
                        "channel": NOTIFY_CHANNEL,
                        "message": message,
                    },
                )
            else:
                # Straight to aiosqlite's connection, one trip per statement
                # (``sqlite_writes.py``): through the session each costs three or four.
                await insert_rows(session, _EVENTS, sealed.event_rows)
                await insert_rows(session, _AUDIT, sealed.audit_rows)
                await fetch_all(
                    session,
                    _SQLITE_LEDGER_UPDATE,
                    (
                        after.last_event_seq,
                        after.audit_seq,
                        after.audit_hash,
                        after.queue_version,
                        self.hall_id,
                    ),
                )
        await session.commit()
        self.committed(events)
        return events

    async def lock_ledger(self) -> LedgerState:
        """The hall's ledger row, locked (PostgreSQL; SQLite's writer holds the database)."""
        c = _LEDGER.c
        stmt = (
            select(c.last_event_seq, c.audit_seq, c.audit_hash, c.queue_version)
            .where(c.hall_id == self.hall_id)
            .with_for_update()
        )
        row = (await self.session.execute(stmt)).first()
        if row is None:
            await self.session.execute(insert(_LEDGER).values(hall_id=self.hall_id))
            row = (await self.session.execute(stmt)).one()
        return LedgerState(row[0], row[1], row[2], row[3])


@dataclass(frozen=True)
class Sealed:
    """What ``Tx.seal`` makes of a transaction's events and audit records."""

    events: list[Event]
    event_rows: list[dict[str, Any]]
    audit_rows: list[dict[str, Any]]
    #: The ledger row's values after this transaction.
    ledger: LedgerState


@dataclass(frozen=True)
class LedgerState:
    """The hall ledger row as locked by this transaction: last event seq, audit seq and hash,
    and the queue version."""

    last_event_seq: int
    audit_seq: int
    audit_hash: str
    queue_version: int
