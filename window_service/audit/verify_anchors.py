"""``audit verify``, check 3: the anchors, in the database and in the anchor files kept
outside it, still match the records they name."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..chain import GENESIS_HASH, AuditKey
from ..ledger import AuditRecord
from .anchors import line_mac
from .models import AuditAnchor
from .verify_chain import Breach


async def _record_hash(session: AsyncSession, hall_id: int, seq: int) -> tuple[int, str] | None:
    """The id and hash of a hall's record ``seq``, if it exists."""
    row = (
        await session.execute(
            select(AuditRecord.id, AuditRecord.hash).where(  # type: ignore[call-overload]
                AuditRecord.hall_id == hall_id, AuditRecord.seq == seq
            )
        )
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def last_anchor(session: AsyncSession, hall_id: int) -> AuditAnchor | None:
    """A hall's newest anchor in the database."""
    return (
        await session.execute(
            select(AuditAnchor)
            .where(AuditAnchor.hall_id == hall_id)  # type: ignore[arg-type]
            .order_by(AuditAnchor.seq.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).scalar_one_or_none()


def anchor_breach(anchor: AuditAnchor, record: tuple[int, str] | None) -> Breach | None:
    """Whether the record an anchor names still has the anchored hash."""
    if record is not None and record[1] == anchor.hash:
        return None
    return Breach(
        anchor.hall_id,
        anchor.seq,
        record[0] if record else None,
        f"anchor of {anchor.created_at.isoformat()} does not match "
        + ("(the record is missing: chain cut short)" if record is None else "(history rewritten)"),
    )


async def verify_anchor_file(session: AsyncSession, path: Path, key: AuditKey) -> Breach | None:
    """Every line of an anchor file (``audit/anchors.py``): complete, sealed with the audit
    key, following the line before it, and naming a record that still has its hash."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        return Breach(None, None, None, f"anchor file {path} cannot be read ({exc.strerror})")
    prev = GENESIS_HASH
    lines = data.split(b"\n")
    complete = lines[:-1]  # after the last newline: "" unless the file was cut mid-line
    where = f"anchor file {path}"
    if lines[-1]:
        return Breach(
            None, None, None, f"{where} line {len(lines)} is incomplete (the file was truncated)"
        )
    for n, raw in enumerate(complete, start=1):
        try:
            fields = json.loads(raw.decode("utf-8"))
            hall_id, seq, digest = int(fields["hall_id"]), int(fields["seq"]), str(fields["hash"])
            mac, line_prev = str(fields["mac"]), str(fields["prev"])
        except (ValueError, KeyError, TypeError):
            return Breach(None, None, None, f"{where} line {n} is malformed (edited or truncated)")
        if fields.get("key_id") != key.key_id:
            return Breach(
                hall_id,
                seq,
                None,
                f"{where} line {n} was made with another audit key (key id "
                f"{fields.get('key_id')}, the key given is {key.key_id})",
            )
        if line_mac(fields, key) != mac:
            return Breach(hall_id, seq, None, f"{where} line {n} does not match its seal (edited)")
        if line_prev != prev:
            return Breach(
                hall_id,
                seq,
                None,
                f"{where} line {n} does not follow line {n - 1} (lines removed or inserted)",
            )
        prev = mac
        record = await _record_hash(session, hall_id, seq)
        if record is None or record[1] != digest:
            return Breach(
                hall_id,
                seq,
                record[0] if record else None,
                f"{where} line {n} (anchored {fields.get('anchored_at')}) does not match: "
                + (
                    "the record is missing (chain cut short)"
                    if record is None
                    else "history rewritten"
                ),
            )
    return None


async def verify_anchors(session: AsyncSession) -> Breach | None:
    anchors = (
        await session.execute(
            select(AuditAnchor).order_by(AuditAnchor.hall_id, AuditAnchor.business_day)  # type: ignore[arg-type]
        )
    ).scalars()
    for anchor in anchors:
        breach = anchor_breach(anchor, await _record_hash(session, anchor.hall_id, anchor.seq))
        if breach is not None:
            return breach
    return None
