"""Verifying the audit record (``window-service audit verify``).

Four checks, in this order; the first breach found is reported:

1. the hash chain of every hall, record by record (content, predecessor, no gaps);
2. the chain head kept in ``hall_ledger`` is the last record (nothing cut off the end);
3. every daily anchor still matches the record it names (history not rewritten);
4. every current row of every audited table is what its last audit record says it is
   (nothing changed behind the system's back), every such row has an audit record, and no
   audited row has vanished.

The audited tables are derived from the records' ``entity`` values, mapped to the tables of
the SQLModel metadata, so a new domain is covered as soon as it calls ``tx.audit``. Tables
without a single ``id`` primary key (link tables) cannot be matched to records and are
skipped; so are entities that are not tables (``tx.audit_raw`` configuration values).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from ..db import create_database
from ..realtime.models import HallLedger
from .chain import GENESIS_HASH, record_hash, snapshot
from .models import AuditAnchor, AuditRecord

CHUNK = 500


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


# -- 1 + 2: the chain and its head ---------------------------------------------------------
async def verify_chain(session: AsyncSession, hall_id: int) -> Breach | None:
    """Recompute every hash of one hall's chain; the first record that does not fit, or None.

    Also checks the head the ledger keeps: records cut off the end of the chain show there.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    last_id = 0
    while True:
        rows = list(
            (
                await session.execute(
                    select(AuditRecord)
                    .where(AuditRecord.hall_id == hall_id, AuditRecord.seq >= expected_seq)  # type: ignore[arg-type]
                    .order_by(AuditRecord.seq)  # type: ignore[arg-type]
                    .limit(1000)
                )
            ).scalars()
        )
        if not rows:
            break
        for record in rows:
            if record.seq != expected_seq:
                return Breach(
                    hall_id, expected_seq, last_id or None, "record missing (gap in sequence)"
                )
            if record.prev_hash != prev:
                return Breach(hall_id, record.seq, record.id, "previous hash does not match")
            digest = record_hash(
                hall_id=record.hall_id,
                seq=record.seq,
                at=record.at,
                actor=record.actor,
                action=record.action,
                entity=record.entity,
                entity_id=record.entity_id,
                before=record.before,
                after=record.after,
                reason=record.reason,
                prev_hash=record.prev_hash,
            )
            if digest != record.hash:
                return Breach(hall_id, record.seq, record.id, "content does not match its hash")
            prev = record.hash
            expected_seq += 1
            last_id = record.id or 0
        session.expunge_all()
    last_seq = expected_seq - 1
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
    if ledger is not None and (ledger_seq != last_seq or ledger_hash != prev):
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


async def _halls(session: AsyncSession) -> list[int]:
    from_records = (await session.execute(select(AuditRecord.hall_id).distinct())).scalars()  # type: ignore[call-overload]
    from_ledger = (
        await session.execute(select(HallLedger.hall_id).where(HallLedger.audit_seq > 0))  # type: ignore[call-overload, arg-type]
    ).scalars()
    return sorted(set(from_records) | set(from_ledger))


# -- 3: anchors ----------------------------------------------------------------------------
async def verify_anchors(session: AsyncSession) -> Breach | None:
    anchors = (
        await session.execute(
            select(AuditAnchor).order_by(AuditAnchor.hall_id, AuditAnchor.business_day)  # type: ignore[arg-type]
        )
    ).scalars()
    for anchor in anchors:
        record = (
            await session.execute(
                select(AuditRecord).where(
                    AuditRecord.hall_id == anchor.hall_id,  # type: ignore[arg-type]
                    AuditRecord.seq == anchor.seq,  # type: ignore[arg-type]
                )
            )
        ).scalar_one_or_none()
        if record is None or record.hash != anchor.hash:
            return Breach(
                anchor.hall_id,
                anchor.seq,
                record.id if record else None,
                f"daily anchor of {anchor.business_day.isoformat()} does not match "
                "(history rewritten)",
            )
    return None


# -- 4: current rows against their last audited state --------------------------------------
def audited_tables() -> dict[str, type[SQLModel]]:
    """Table name → model class of every table with a single ``id`` primary key."""
    from .. import models  # noqa: F401  (every domain's tables)

    out: dict[str, type[SQLModel]] = {}
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        table: Any = mapper.local_table
        keys = [c.key for c in table.primary_key.columns]
        if keys == ["id"]:
            out[table.name] = mapper.class_
    return out


def _same(column: Column[Any] | None, recorded: Any, current: Any) -> bool:
    """Whether a recorded value and the row's value are the same (allowing for round trips)."""
    if recorded == current:
        return True
    if recorded is None or current is None:
        return False
    try:
        python_type = column.type.python_type if column is not None else None
    except NotImplementedError:
        python_type = None
    try:
        if python_type is datetime or (isinstance(recorded, str) and "T" in recorded):
            return datetime.fromisoformat(str(recorded)) == datetime.fromisoformat(str(current))
        if python_type is Decimal:
            return Decimal(str(recorded)) == Decimal(str(current))
        if isinstance(recorded, int | float) and isinstance(current, int | float):
            return math.isclose(float(recorded), float(current), rel_tol=1e-6)
    except (ValueError, TypeError, InvalidOperation):
        return False
    return False


def _difference(model: type[SQLModel], after: dict[str, Any], row: SQLModel) -> str | None:
    current = snapshot(row)
    columns = {c.key: c for c in model.__table__.columns}  # type: ignore[attr-defined]
    for key, value in current.items():
        if key not in after:
            # A column added by a later migration: the record predates it.
            continue
        if not _same(columns.get(key), after[key], value):
            return f"{key}: recorded {after[key]!r}, found {value!r}"
    return None


async def _latest_states(
    session: AsyncSession, entity: str, ids: list[str]
) -> dict[str, AuditRecord]:
    """For each entity id, its last audit record that carries an ``after`` state."""
    rows = await session.execute(
        select(AuditRecord)
        .where(AuditRecord.entity == entity, AuditRecord.entity_id.in_(ids))  # type: ignore[arg-type, attr-defined]
        .order_by(AuditRecord.id)  # type: ignore[arg-type]
    )
    latest: dict[str, AuditRecord] = {}
    for record in rows.scalars():
        if record.after is not None:
            latest[record.entity_id] = record
    return latest


async def verify_table(session: AsyncSession, entity: str, model: type[SQLModel]) -> Breach | None:
    id_column = model.__table__.c.id  # type: ignore[attr-defined]
    seen: set[str] = set()
    last_id: Any = None
    while True:
        stmt = select(model).order_by(id_column).limit(CHUNK)
        if last_id is not None:
            stmt = stmt.where(id_column > last_id)
        rows = list((await session.execute(stmt)).scalars())
        if not rows:
            break
        ids = [str(row.id) for row in rows]  # type: ignore[attr-defined]
        latest = await _latest_states(session, entity, ids)
        for row, key in zip(rows, ids, strict=True):
            record = latest.get(key)
            if record is None:
                return Breach(
                    getattr(row, "hall_id", None),
                    None,
                    None,
                    "row has no audit record (written behind the system's back)",
                    entity,
                    key,
                )
            difference = _difference(model, record.after or {}, row)
            if difference is not None:
                return Breach(
                    record.hall_id,
                    record.seq,
                    record.id,
                    f"row differs from its last audit record ({difference})",
                    entity,
                    key,
                )
            seen.add(key)
        last_id = rows[-1].id  # type: ignore[attr-defined]
        session.expunge_all()
    audited = (
        await session.execute(
            select(func.count(AuditRecord.entity_id.distinct())).where(  # type: ignore[attr-defined]
                AuditRecord.entity == entity  # type: ignore[arg-type]
            )
        )
    ).scalar_one()
    if int(audited) > len(seen):
        audited_ids = (
            await session.execute(
                select(AuditRecord.entity_id)  # type: ignore[call-overload]
                .where(AuditRecord.entity == entity)
                .distinct()
            )
        ).scalars()
        for key in sorted(set(audited_ids) - seen, key=lambda k: (len(k), k)):
            record = (await _latest_states(session, entity, [key])).get(key)
            if record is not None:
                return Breach(
                    record.hall_id,
                    record.seq,
                    record.id,
                    "audited row has vanished (deleted behind the system's back)",
                    entity,
                    key,
                )
    return None


async def verify_rows(session: AsyncSession) -> Breach | None:
    tables = audited_tables()
    entities = (await session.execute(select(AuditRecord.entity).distinct())).scalars()  # type: ignore[call-overload]
    for entity in sorted(entities):
        model = tables.get(entity)
        if model is None:
            continue
        breach = await verify_table(session, entity, model)
        if breach is not None:
            return breach
    return None


async def verify_all(session: AsyncSession) -> Breach | None:
    for hall_id in await _halls(session):
        breach = await verify_chain(session, hall_id)
        if breach is not None:
            return breach
    breach = await verify_anchors(session)
    if breach is not None:
        return breach
    return await verify_rows(session)


async def verify_command(url: str) -> int:
    db = create_database(url)
    try:
        async with db.read() as session:
            breach = await verify_all(session)
            count = (await session.execute(select(func.count()).select_from(AuditRecord))).scalar()
    finally:
        await db.dispose()
    if breach is None:
        print(f"审计记录完整 (audit chain intact): {count} records, current rows match")
        return 0
    print(f"审计记录被篡改 (audit record broken): {breach.describe()}", file=sys.stderr)
    return 1
