"""Anchors of the audit chain (审计锚点): its head, published often and kept outside the database.

While a hall writes records, housekeeping anchors the chain's head at least every
``audit_anchor_minutes`` *(default 15)*: a row in ``audit_anchor`` (shown on the notice board
and at ``GET /api/v1/halls/{hall}/audit/anchors``) and one line appended to the anchor file
(``var/audit_anchors.jsonl`` by default), which an operator ships elsewhere (a log host, a
USB stick, a printout). Whoever holds an anchor can later check that the record with that
sequence number still has that hash: a chain cut short, or rewritten by someone who holds the
audit key, cannot keep it. ``audit verify --anchors FILE`` checks a file's every line.

A line of the file is canonical JSON: the hall, the record's seq and hash, when it was
written and anchored, the audit key's public id, ``prev`` (the previous line's ``mac``) and
``mac``, the HMAC of the rest under the audit key, so a line cannot be forged, edited,
removed from the middle or cut short without ``verify`` noticing.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..chain import GENESIS_HASH, AuditKey, canonical_json, to_jsonable
from ..halls.lookup import business_day, local_time
from ..halls.models import Hall
from ..ledger import AuditRecord, HallLedger
from .models import AuditAnchor

if TYPE_CHECKING:
    from ..state import AppState

log = logging.getLogger("window_service.audit")


@dataclass(frozen=True)
class Anchor:
    #: The business day (hall time) of the anchored record.
    day: date
    seq: int
    hash: str
    record_at: datetime
    anchored_at: datetime


def _anchor(row: AuditAnchor) -> Anchor:
    return Anchor(row.business_day, row.seq, row.hash, row.record_at, row.created_at)


async def anchors_of(session: AsyncSession, hall_id: int, *, limit: int = 60) -> list[Anchor]:
    """A hall's anchors, newest first."""
    rows = await session.execute(
        select(AuditAnchor)
        .where(AuditAnchor.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(AuditAnchor.seq.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return [_anchor(a) for a in rows.scalars()]


async def chain_head(session: AsyncSession, hall_id: int) -> tuple[int, str]:
    row = (
        await session.execute(
            select(HallLedger.audit_seq, HallLedger.audit_hash).where(  # type: ignore[call-overload]
                HallLedger.hall_id == hall_id
            )
        )
    ).first()
    if row is None:
        return 0, ""
    return int(row[0]), str(row[1] or "")


async def due_anchor(
    session: AsyncSession, hall: Hall, now: datetime, every: timedelta
) -> Anchor | None:
    """The anchor to write now, if any: the chain's head, when records were written since
    the last anchor and that anchor is ``every`` old (or there is none yet)."""
    assert hall.id is not None
    head_seq, _ = await chain_head(session, hall.id)
    if head_seq == 0:
        return None
    last = (
        await session.execute(
            select(AuditAnchor.seq, AuditAnchor.created_at)  # type: ignore[call-overload]
            .where(AuditAnchor.hall_id == hall.id)
            .order_by(AuditAnchor.seq.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).first()
    if last is not None and (int(last[0]) >= head_seq or now - last[1] < every):
        return None
    record = (
        await session.execute(
            select(AuditRecord.seq, AuditRecord.hash, AuditRecord.at).where(  # type: ignore[call-overload]
                AuditRecord.hall_id == hall.id, AuditRecord.seq == head_seq
            )
        )
    ).first()
    if record is None:  # a ledger ahead of its records: verify reports it
        log.warning("audit chain of hall %s: head seq %s has no record", hall.code, head_seq)
        return None
    seq, digest, at = int(record[0]), str(record[1]), record[2]
    return Anchor(business_day(hall, at), seq, digest, at, now)


async def write_anchor(
    session: AsyncSession, hall: Hall, now: datetime, key: AuditKey, every: timedelta
) -> Anchor | None:
    """Write the due anchor of ``hall`` (``due_anchor``) into the database; None when none is
    due. Raises ``IntegrityError`` when another process wrote the same one first."""
    assert hall.id is not None
    anchor = await due_anchor(session, hall, now, every)
    if anchor is None:
        return None
    session.add(
        AuditAnchor(
            hall_id=hall.id,
            business_day=anchor.day,
            seq=anchor.seq,
            hash=anchor.hash,
            record_at=anchor.record_at,
            created_at=now,
            key_id=key.key_id,
        )
    )
    await session.flush()
    return anchor


# -- the anchor file -----------------------------------------------------------------------
def line_fields(hall: Hall, anchor: Anchor, key: AuditKey, prev: str) -> dict[str, Any]:
    return {
        "hall": hall.code,
        "hall_id": hall.id,
        "seq": anchor.seq,
        "hash": anchor.hash,
        "record_at": to_jsonable(anchor.record_at),
        "anchored_at": to_jsonable(anchor.anchored_at),
        "key_id": key.key_id,
        "prev": prev,
    }


def line_mac(fields: dict[str, Any], key: AuditKey) -> str:
    """The seal of an anchor line: HMAC under the audit key of its fields but ``mac``."""
    return key.digest(canonical_json({k: v for k, v in fields.items() if k != "mac"}))


def _last_mac(f: Any) -> str:
    """The ``mac`` of the file's last complete line (the file open for reading, locked)."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size == 0:
        return GENESIS_HASH
    f.seek(max(0, size - 4096))
    tail = f.read().decode("utf-8", "replace")
    lines = [line for line in tail.split("\n") if line.strip()]
    try:
        return str(json.loads(lines[-1])["mac"])
    except (IndexError, ValueError, KeyError, TypeError):
        # A damaged end (verify reports it); the next line still follows what is there.
        return GENESIS_HASH


def append_anchor_line(path: Path, hall: Hall, anchor: Anchor, key: AuditKey) -> str:
    """Append one anchor as one line (the file is only ever appended to); returns the line.

    An exclusive lock orders the processes of one host that append to the same file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "r+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            fields = line_fields(hall, anchor, key, _last_mac(f))
            fields["mac"] = line_mac(fields, key)
            line = canonical_json(fields) + "\n"
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return line


async def anchor_job(state: AppState) -> None:
    """Housekeeping: anchor every hall's chain head that is due (database, then file).

    Due one housekeeping round early, so that no record waits longer than
    ``audit_anchor_minutes`` for an anchor after the last one.
    """
    settings = state.settings
    every = max(
        timedelta(minutes=settings.audit_anchor_minutes)
        - timedelta(seconds=settings.housekeeping_seconds),
        timedelta(0),
    )
    key = state.db.chain_key()
    path = settings.resolved_anchor_file()
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        now = state.clock.now()
        async with state.db.read() as session:
            if await due_anchor(session, hall, now, every) is None:
                continue  # the usual case: nothing to write, so no write lock taken
        try:
            async with state.db.write() as session:
                anchor = await write_anchor(session, hall, now, key, every)
                await session.commit()
        except IntegrityError:
            log.debug("audit anchor of hall %s written elsewhere", hall.code)
            continue
        if anchor is not None:
            # Only the process whose anchor row committed writes its line.
            try:
                await asyncio.to_thread(append_anchor_line, path, hall, anchor, key)
            except OSError:
                log.exception("could not append to the audit anchor file %s", path)


async def board_context(session: AsyncSession, hall: Hall, *, limit: int = 7) -> dict[str, object]:
    """What the notice board (电子公示栏) needs to show the latest anchors.

    Render it with ``{% include "audit_anchors.html" %}`` and this dict in the context.
    """
    assert hall.id is not None
    seq, digest = await chain_head(session, hall.id)
    return {
        "audit_head": {"seq": seq, "hash": digest},
        "audit_anchors": [
            {
                "day": a.day.isoformat(),
                "seq": a.seq,
                "hash": a.hash,
                "anchored_at": local_time(hall, a.anchored_at).strftime("%Y-%m-%d %H:%M"),
                "record_at": local_time(hall, a.record_at).strftime("%H:%M"),
            }
            for a in await anchors_of(session, hall.id, limit=limit)
        ],
        "audit_anchors_url": f"/api/v1/halls/{hall.code}/audit/anchors",
    }
