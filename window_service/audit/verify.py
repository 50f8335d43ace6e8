"""Verifying the audit record (``window-service audit verify [--anchors FILE]``).

The checks, in this order; the first breach found is reported:

0. the audit key given is the one the chain was sealed with (the anchors name its id);
1. the hash chain of every hall, record by record (content, predecessor, no gaps): records
   before a chain's re-key record (``audit/rekey.py``) under plain SHA-256, it and every
   later record (a whole chain started after the key existed) under HMAC-SHA256 with the
   audit key, which an insider who can write the database does not hold;
2. the chain head kept in ``hall_ledger`` is the last record (nothing cut off the end);
3. every anchor in the database, and every line of the anchor files given (kept outside
   the database), still matches the record it names (history not rewritten or cut short);
   a file's lines are complete, sealed with the key and in an unbroken sequence;
4. every current row of every audited table is what its last audit record says it is
   (nothing changed behind the system's back), every such row has an audit record, and no
   audited row has vanished;
5. every evidence file (inspection photo) on disk still has the SHA-256 its row records.

The tables and the evidence checks of the domains are handed over by ``window_service/models.py``
(``registry.py``): audit imports no domain.

The audited tables are derived from the records' ``entity`` values, mapped to the tables of
the SQLModel metadata, so a new domain is covered as soon as it calls ``tx.audit``. Tables
without a single ``id`` primary key (link tables) cannot be matched to records and are
skipped; so are entities that are not tables (``tx.audit_raw`` configuration values).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Column, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from ..chain import (
    GENESIS_HASH,
    LEGACY_SHA256,
    REKEY_ACTION,
    AuditKey,
    record_hash,
    snapshot,
)
from ..db import create_database
from ..ledger import AuditRecord, HallLedger
from . import registry
from .anchors import line_mac
from .models import AuditAnchor

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
async def _keyed_from(session: AsyncSession, hall_id: int) -> int:
    """The seq of a hall's first keyed record: its re-key record's, else 1 (keyed from the
    start). A second re-key record (or a forged one) fails its keyed hash or its check."""
    seq = (
        await session.execute(
            select(func.min(AuditRecord.seq)).where(
                AuditRecord.hall_id == hall_id,  # type: ignore[arg-type]
                AuditRecord.action == REKEY_ACTION,  # type: ignore[arg-type]
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


def _rekey_problem(record: AuditRecord, key: AuditKey) -> str | None:
    after = record.after or {}
    if after.get("legacy_seq") != record.seq - 1 or after.get("legacy_hash") != record.prev_hash:
        return "re-key record does not name the record before it"
    if after.get("key_id") != key.key_id:
        return "re-key record names another audit key"
    return None


def configured_key() -> AuditKey | None:
    """The process's configured audit key (``Settings.resolved_audit_key``), never generated."""
    from ..config import get_settings

    key = get_settings().resolved_audit_key(create=False)
    return AuditKey(key) if key else None


def _key_or_configured(key: AuditKey | None) -> AuditKey:
    key = key or configured_key()
    if key is None:
        raise RuntimeError("no audit key: set WINDOW_SERVICE_AUDIT_KEY")
    return key


async def verify_chain(
    session: AsyncSession, hall_id: int, key: AuditKey | None = None
) -> Breach | None:
    """Recompute every hash of one hall's chain; the first record that does not fit, or None.

    Records before the re-key record are checked under plain SHA-256, the rest under the
    audit key. Also checks the head the ledger keeps: records cut off the end of the chain
    show there.
    """
    key = _key_or_configured(key)
    keyed_from = await _keyed_from(session, hall_id)
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
            keyed = record.seq >= keyed_from
            digest = record_hash(
                key=key if keyed else LEGACY_SHA256,
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
                return Breach(
                    hall_id,
                    record.seq,
                    record.id,
                    "content does not match its hash"
                    + (
                        " (rewritten, or not sealed with the hall's audit key)"
                        if keyed
                        else " (plain SHA-256, before the chain was keyed)"
                    ),
                )
            if record.action == REKEY_ACTION:
                problem = (
                    _rekey_problem(record, key)
                    if record.seq == keyed_from
                    else "a second re-key record"
                )
                if problem is not None:
                    return Breach(hall_id, record.seq, record.id, problem)
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
async def _record_at(session: AsyncSession, hall_id: int, seq: int) -> AuditRecord | None:
    return (
        await session.execute(
            select(AuditRecord).where(
                AuditRecord.hall_id == hall_id,  # type: ignore[arg-type]
                AuditRecord.seq == seq,  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()


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
        record = await _record_at(session, hall_id, seq)
        if record is None or record.hash != digest:
            return Breach(
                hall_id,
                seq,
                record.id if record else None,
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
                f"anchor of {anchor.created_at.isoformat()} does not match "
                + (
                    "(the record is missing: chain cut short)"
                    if record is None
                    else "(history rewritten)"
                ),
            )
    return None


# -- 4: current rows against their last audited state --------------------------------------
def audited_tables() -> dict[str, type[SQLModel]]:
    """Table name → model class of every table with a single ``id`` primary key."""
    registry.require_every_table()
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


# -- 5: evidence files ---------------------------------------------------------------------
def photo_file_problem(var_dir: Path, path: str, sha256: str) -> str | None:
    """Why an evidence file does not back its row (missing, or other content), or None."""
    target = var_dir / path
    try:
        data = target.read_bytes()
    except OSError:
        return f"evidence file {path} is missing"
    if hashlib.sha256(data).hexdigest() != sha256:
        return f"evidence file {path} was swapped (its SHA-256 differs from the recorded one)"
    return None


async def verify_evidence(session: AsyncSession, var_dir: Path) -> Breach | None:
    """The domains' evidence files (inspection photos), by the checks ``registry`` lists."""
    for check in registry.evidence_checks():
        breach = await check(session, var_dir)
        if breach is not None:
            return breach
    return None


async def verify_all(
    session: AsyncSession,
    key: AuditKey | None = None,
    *,
    anchor_files: list[Path] | None = None,
    var_dir: Path | None = None,
) -> Breach | None:
    """Every check above with the audit ``key`` (by default the configured one); evidence
    files when ``var_dir`` is given."""
    key = _key_or_configured(key)
    halls = await _halls(session)
    for hall_id in halls:
        breach = await verify_key(session, hall_id, key)
        if breach is not None:
            return breach
    for hall_id in halls:
        breach = await verify_chain(session, hall_id, key)
        if breach is not None:
            return breach
    breach = await verify_anchors(session)
    if breach is not None:
        return breach
    for path in anchor_files or []:
        breach = await verify_anchor_file(session, path, key)
        if breach is not None:
            return breach
    breach = await verify_rows(session)
    if breach is not None or var_dir is None:
        return breach
    return await verify_evidence(session, var_dir)


async def verify_command(
    url: str,
    *,
    key: bytes | None = None,
    anchor_files: list[Path] | None = None,
    var_dir: Path | None = None,
) -> int:
    """``window-service audit verify``: 0 when intact; 1 naming the first breach; 2 without
    an audit key (``key``, by default the configured one)."""
    audit_key = AuditKey(key) if key else configured_key()
    if audit_key is None:
        print(
            "没有审计密钥，无法核验 (no audit key: set WINDOW_SERVICE_AUDIT_KEY or "
            "WINDOW_SERVICE_AUDIT_KEY_FILE)",
            file=sys.stderr,
        )
        return 2
    db = create_database(url, audit_key=audit_key)
    try:
        async with db.read() as session:
            breach = await verify_all(
                session, audit_key, anchor_files=anchor_files, var_dir=var_dir
            )
            count = (await session.execute(select(func.count()).select_from(AuditRecord))).scalar()
    finally:
        await db.dispose()
    if breach is None:
        files = f", {len(anchor_files)} anchor file(s) match" if anchor_files else ""
        print(
            f"审计记录完整 (audit chain intact): {count} records, key id {audit_key.key_id}, "
            f"current rows{' and evidence files' if var_dir is not None else ''} match{files}"
        )
        return 0
    print(f"审计记录被篡改 (audit record broken): {breach.describe()}", file=sys.stderr)
    return 1
