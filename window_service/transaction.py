"""One write transaction of a hall: its changes, the events it tells the screens, its audit trail.

Domain services change rows through an ``AsyncSession`` and describe what happened with
``tx.emit(...)`` (for screens) and ``tx.audit(...)`` (for the record). ``commit()`` then, as the
last step before COMMIT, locks the hall's ledger row, numbers the events gap-free, chains the
audit records, and (on PostgreSQL) queues a NOTIFY that other processes receive after commit.
Everything lands together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from .audit.chain import GENESIS_HASH, record_hash, snapshot, to_jsonable
from .audit.models import AuditRecord
from .realtime.models import HallEvent, HallLedger

NOTIFY_CHANNEL = "window_service_events"
_LEDGER = HallLedger.__table__  # type: ignore[attr-defined]
_EVENTS = HallEvent.__table__  # type: ignore[attr-defined]
_AUDIT = AuditRecord.__table__  # type: ignore[attr-defined]
#: Below this many bind parameters a commit writes its rows in one statement (PostgreSQL
#: accepts 32767).
_MAX_CTE_PARAMS = 20_000


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


@dataclass
class Tx:
    session: AsyncSession
    hall_id: int
    now: datetime
    actor: Actor
    after_commit: AfterCommit | None = None
    _events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _audits: list[_PendingAudit] = field(default_factory=list)

    def emit(self, type_: str, **payload: Any) -> None:
        """Tell the hall's screens something happened (numbered at commit)."""
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

    async def commit(self) -> list[Event]:
        session = self.session
        await session.flush()
        events: list[Event] = []
        if self._events or self._audits:
            ledger = await self._lock_ledger()
            first_seq = ledger.last_event_seq + 1
            rows = []
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
                digest = record_hash(
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
            # Core tables, not the mapped classes: the ORM's bulk paths cost more than the rows.
            ledger_update = (
                update(_LEDGER)
                .where(_LEDGER.c.hall_id == self.hall_id)
                .values(
                    last_event_seq=ledger.last_event_seq + len(events),
                    audit_seq=audit_seq,
                    audit_hash=audit_hash,
                )
            )
            message = f"{self.hall_id}:{events[-1].seq}" if events else ""
            postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
            if postgres and len(rows) * 5 + len(audit_rows) * 12 < _MAX_CTE_PARAMS:
                # One round trip while the hall's ledger row is locked: events, audit records,
                # the ledger and the NOTIFY in a single statement (every write of the hall
                # waits for this lock, so its hold time bounds the hall's write rate).
                stmt = ledger_update
                if rows:
                    stmt = stmt.add_cte(insert(_EVENTS).values(rows).cte("new_events"))
                if audit_rows:
                    stmt = stmt.add_cte(insert(_AUDIT).values(audit_rows).cte("new_audit"))
                if events:
                    stmt = stmt.returning(func.pg_notify(NOTIFY_CHANNEL, message))
                await session.execute(stmt)
            else:
                if rows:
                    await session.execute(insert(_EVENTS), rows)
                if audit_rows:
                    await session.execute(insert(_AUDIT), audit_rows)
                await session.execute(ledger_update)
                if events and postgres:
                    await session.execute(
                        text("SELECT pg_notify(:channel, :message)"),
                        {"channel": NOTIFY_CHANNEL, "message": message},
                    )
        await session.commit()
        self._events.clear()
        self._audits.clear()
        if events and self.after_commit is not None:
            self.after_commit(events)
        return events

    async def _lock_ledger(self) -> _LedgerState:
        c = _LEDGER.c
        stmt = (
            select(c.last_event_seq, c.audit_seq, c.audit_hash)
            .where(c.hall_id == self.hall_id)
            .with_for_update()
        )
        row = (await self.session.execute(stmt)).first()
        if row is None:
            await self.session.execute(insert(_LEDGER).values(hall_id=self.hall_id))
            row = (await self.session.execute(stmt)).one()
        return _LedgerState(row[0], row[1], row[2])


@dataclass(frozen=True)
class _LedgerState:
    last_event_seq: int
    audit_seq: int
    audit_hash: str
