"""Verifying the audit record: the hash chain of every hall, record by record."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import create_database
from .chain import GENESIS_HASH, record_hash
from .models import AuditRecord


@dataclass(frozen=True)
class Breach:
    hall_id: int
    seq: int
    record_id: int | None
    reason: str


async def verify_chain(session: AsyncSession, hall_id: int) -> Breach | None:
    """Recompute every hash of one hall's chain; the first record that does not fit, or None."""
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
            return None
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


async def verify_all(session: AsyncSession) -> Breach | None:
    halls = (await session.execute(select(AuditRecord.hall_id).distinct())).scalars()  # type: ignore[call-overload]
    for hall_id in sorted(halls):
        breach = await verify_chain(session, hall_id)
        if breach is not None:
            return breach
    return None


async def verify_command(url: str) -> int:
    db = create_database(url)
    try:
        async with db.read() as session:
            breach = await verify_all(session)
    finally:
        await db.dispose()
    if breach is None:
        print("审计记录完整 (audit chain intact)")
        return 0
    print(
        f"审计记录被篡改 (audit chain broken): hall {breach.hall_id}, record seq {breach.seq}"
        f" (id {breach.record_id}): {breach.reason}",
        file=sys.stderr,
    )
    return 1
