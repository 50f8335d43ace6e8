"""``audit verify``, checks 0–2: the audit key, each hall's hash chain and the ledger's head.

The chain is read as plain column tuples in chunks of ``CHAIN_CHUNK`` records along the
``(hall_id, seq)`` unique index, no ORM objects: a province's history holds millions of
records, and loading each as a mapped object cost more than hashing it. A verify can start
from an anchor (``start``): the anchored record's hash stands in for everything before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from ..chain import (
    GENESIS_HASH,
    LEGACY_SHA256,
    REKEY_ACTION,
    AuditKey,
    ChainKey,
    canonical_json,
    record_hash,
)
from ..halls.models import Hall
from ..ledger import AuditRecord, HallLedger
from .models import AuditAnchor
from .progress import Progress, silent

CHAIN_CHUNK = 5000
_RECORDS: Any = AuditRecord.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(
    _RECORDS.c[name]
    for name in (
        "id",
        "hall_id",
        "seq",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "before",
        "after",
        "reason",
        "prev_hash",
        "hash",
    )
)


@dataclass(frozen=True)
class Breach:
    hall_id: int | None
    seq: int | None
    record_id: int | None
    reason: str
    entity: str = ""
    entity_id: str = ""

    def describe(self) -> str:
        parts = []
        if self.hall_id is not None:
            parts.append(f"hall {self.hall_id}")
        if self.seq is not None:
            parts.append(f"record seq {self.seq} (id {self.record_id})")
        if self.entity:
            parts.append(f"{self.entity} id {self.entity_id}")
        return ", ".join(parts) + f": {self.reason}"


def configured_key() -> AuditKey | None:
    """The process's configured audit key (``Settings.resolved_audit_key``), never generated."""
    from ..config import get_settings

    key = get_settings().resolved_audit_key(create=False)
    return AuditKey(key) if key else None


async def keyed_from(session: AsyncSession, hall_id: int) -> int:
    """The seq of a hall's first keyed record: its re-key record's, else 1 (keyed from the
    start). A second re-key record (or a forged one) fails its keyed hash or its check."""
    seq = (
        await session.execute(
            select(func.min(AuditRecord.seq)).where(
                AuditRecord.hall_id == hall_id,  # type: ignore[arg-type]
                # written out, not bound: the partial index ix_audit_rekey has this condition
                text(f"action = '{REKEY_ACTION}'"),
            )
        )
    ).scalar_one()
    return int(seq) if seq is not None else 1


async def verify_key(session: AsyncSession, hall_id: int, key: AuditKey) -> Breach | None:
    """The key given is the one the hall's latest anchor was made under."""
    row = (
        await session.execute(
            select(AuditAnchor.seq, AuditAnchor.key_id)  # type: ignore[call-overload]
            .where(AuditAnchor.hall_id == hall_id, AuditAnchor.key_id != "")
            .order_by(AuditAnchor.seq.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).first()
    if row is not None and row[1] != key.key_id:
        return Breach(
            hall_id,
            None,
            None,
            f"the audit key given (key id {key.key_id}) is not the one the chain was sealed "
            f"with (key id {row[1]}, anchor of seq {row[0]})",
        )
    return None


def _rekey_problem(record: Any, key: AuditKey) -> str | None:
    after = (_decode(record[AFTER]) if record[AFTER] else None) or {}
    if after.get("legacy_seq") != record[SEQ] - 1 or after.get("legacy_hash") != record[PREV]:
        return "re-key record does not name the record before it"
    if after.get("key_id") != key.key_id:
        return "re-key record names another audit key"
    return None


#: A record as the chain check reads it: these fields, in this order (``_COLUMNS``), with
#: ``before`` and ``after`` as the JSON text stored.
ID, HALL, SEQ, AT, ACTOR, ACTION, ENTITY, ENTITY_ID, BEFORE, AFTER, REASON, PREV, HASH = range(13)
_PG_CHUNK_SQL = (
    "SELECT id, hall_id, seq, at, actor, action, entity, entity_id, before::text, "
    "after::text, reason, prev_hash, hash FROM audit_record "
    "WHERE hall_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
)
_TEXT_COLUMNS = tuple(
    type_coerce(c, Text).label(c.key) if c.key in ("before", "after") else c for c in _COLUMNS
)
_decode = json.JSONDecoder().decode


def _canonical(stored: str | None) -> str:
    """The canonical text of a stored JSON value (decoded and written again)."""
    return canonical_json(None if stored is None else _decode(stored))


async def _chunk(session: AsyncSession, hall_id: int, from_seq: int) -> list[Any]:
    """The next ``CHAIN_CHUNK`` records of a hall's chain from ``from_seq``, as tuples.

    PostgreSQL: one statement on the driver's connection (asyncpg's public ``fetch``):
    SQLAlchemy's result processing cost as much as the hashing.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        return list(
            await raw.driver_connection.fetch(_PG_CHUNK_SQL, hall_id, from_seq, CHAIN_CHUNK)  # type: ignore[union-attr]
        )
    c = _RECORDS.c
    stmt = (
        select(*_TEXT_COLUMNS)
        .where(c.hall_id == hall_id, c.seq >= from_seq)
        .order_by(c.seq)
        .limit(CHAIN_CHUNK)
    )
    return list((await session.execute(stmt)).all())


def _digest(record: Any, key: ChainKey, prev: str, before_json: str, after_json: str) -> str:
    return record_hash(
        key=key,
        hall_id=record[HALL],
        seq=record[SEQ],
        at=record[AT],
        actor=record[ACTOR],
        action=record[ACTION],
        entity=record[ENTITY],
        entity_id=record[ENTITY_ID],
        before=None,
        after=None,
        reason=record[REASON],
        prev_hash=prev,
        after_json=after_json,
        before_json=before_json,
    )


async def verify_chain(
    session: AsyncSession,
    hall_id: int,
    key: AuditKey | None = None,
    *,
    start: tuple[int, str] | None = None,
    progress: Progress | None = None,
    touched: set[tuple[str, str]] | None = None,
) -> Breach | None:
    """Recompute every hash of one hall's chain; the first record that does not fit, or None.

    Records before the re-key record are checked under plain SHA-256, the rest under the
    audit key. Also checks the head the ledger keeps: records cut off the end of the chain
    show there. ``start`` (seq, hash): begin after that record (an anchor), trusting it.
    ``touched`` collects the (entity, entity_id) of every record checked.

    The JSON columns hold the canonical text the hash was made of (the engines'
    ``json_serializer``), so it is hashed as stored; a record whose stored text is not
    canonical (written by a release that stored other JSON text) is decoded and written
    canonically before it is judged.
    """
    key = key or configured_key()
    if key is None:
        raise RuntimeError("no audit key: set WINDOW_SERVICE_AUDIT_KEY")
    progress = progress or silent()
    keyed = await keyed_from(session, hall_id)
    prev, expected_seq = (start[1], start[0] + 1) if start else (GENESIS_HASH, 1)
    last_id = 0
    while rows := await _chunk(session, hall_id, expected_seq):
        for record in rows:
            seq = record[SEQ]
            if seq != expected_seq:
                return Breach(
                    hall_id, expected_seq, last_id or None, "record missing (gap in sequence)"
                )
            if record[PREV] != prev:
                return Breach(hall_id, seq, record[ID], "previous hash does not match")
            sealed = seq >= keyed
            scheme = key if sealed else LEGACY_SHA256
            before, after = record[BEFORE], record[AFTER]
            digest = _digest(record, scheme, prev, before or "null", after or "null")
            if digest != record[HASH]:
                digest = _digest(record, scheme, prev, _canonical(before), _canonical(after))
            if digest != record[HASH]:
                return Breach(
                    hall_id,
                    seq,
                    record[ID],
                    "content does not match its hash"
                    + (
                        " (rewritten, or not sealed with the hall's audit key)"
                        if sealed
                        else " (plain SHA-256, before the chain was keyed)"
                    ),
                )
            if record[ACTION] == REKEY_ACTION:
                problem = _rekey_problem(record, key) if seq == keyed else "a second re-key record"
                if problem is not None:
                    return Breach(hall_id, seq, record[ID], problem)
            if touched is not None:
                touched.add((record[ENTITY], record[ENTITY_ID]))
            prev = digest
            expected_seq += 1
            last_id = record[ID]
        progress.advance(len(rows))
    return await _verify_head(session, hall_id, expected_seq - 1, prev, last_id)


async def _verify_head(
    session: AsyncSession, hall_id: int, last_seq: int, last_hash: str, last_id: int
) -> Breach | None:
    ledger = (
        await session.execute(
            select(HallLedger.audit_seq, HallLedger.audit_hash).where(  # type: ignore[call-overload]
                HallLedger.hall_id == hall_id
            )
        )
    ).first()
    ledger_seq, ledger_hash = (int(ledger[0]), ledger[1] or GENESIS_HASH) if ledger else (0, "")
    if ledger is None and last_seq > 0:
        return Breach(hall_id, last_seq, last_id or None, "chain head missing from the ledger")
    if ledger is not None and (ledger_seq != last_seq or ledger_hash != last_hash):
        if ledger_seq > last_seq:
            return Breach(
                hall_id,
                last_seq + 1,
                None,
                f"record missing (the ledger's head is seq {ledger_seq}; the chain ends early)",
            )
        return Breach(
            hall_id, last_seq, last_id or None, "chain head does not match the ledger's head"
        )
    return None


async def halls_with_records(session: AsyncSession) -> list[int]:
    """Every hall that can have records: each record names its hall by a foreign key, so
    the hall table holds them all (and is small, where a DISTINCT over millions of records
    is not), with any ledger row."""
    from_records = (await session.execute(select(Hall.id))).scalars()  # type: ignore[call-overload]
    from_ledger = (
        await session.execute(select(HallLedger.hall_id).where(HallLedger.audit_seq > 0))  # type: ignore[call-overload, arg-type]
    ).scalars()
    return sorted(set(from_records) | set(from_ledger))


async def count_records(session: AsyncSession, hall_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(AuditRecord)
    if hall_id is not None:
        stmt = stmt.where(AuditRecord.hall_id == hall_id)  # type: ignore[arg-type]
    return int((await session.execute(stmt)).scalar_one())
