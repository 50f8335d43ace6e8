"""``audit verify``, checks 4–5: current rows against their last audited state, and the
evidence files on disk.

Rows are read with Core in chunks of ``CHUNK`` along the primary key and put in the
canonical form with ``chain.row_snapshot`` (what ``snapshot`` gives an ORM object); for each
chunk only the last record with an ``after`` of each id is read (``_latest_states``: one
``max(id)`` per id on the ``(entity, entity_id)`` index), not every record of the entity.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from ..chain import canonical_json, row_snapshot
from ..ledger import AuditRecord
from . import registry
from .progress import Progress, silent
from .verify_chain import Breach

CHUNK = 2000
_decode = json.JSONDecoder().decode
_RECORDS: Any = AuditRecord.__table__  # type: ignore[attr-defined]


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


def _difference(table: Any, after: dict[str, Any], current: dict[str, Any]) -> str | None:
    for key, value in current.items():
        if key not in after:
            # A column added by a later migration: the record predates it.
            continue
        recorded = after[key]
        if recorded != value and not _same(table.c.get(key), recorded, value):
            return f"{key}: recorded {recorded!r}, found {value!r}"
    return None


async def _latest_states(session: AsyncSession, entity: str, ids: list[str]) -> dict[str, Any]:
    """For each entity id, its last audit record that carries an ``after`` state."""
    c = _RECORDS.c
    last = (
        select(func.max(c.id))
        .where(
            c.entity == entity,
            c.entity_id.in_(ids),
            # SQL NULL, or (SQLite's JSON type) the JSON text null: no state
            c.after.is_not(None),
            cast(c.after, Text) != "null",
        )
        .group_by(c.entity_id)
    )
    rows = await session.execute(
        # the text stored: it is the canonical JSON of the state (see ``verify_table``)
        select(c.id, c.hall_id, c.seq, c.entity_id, cast(c.after, Text).label("after")).where(
            c.id.in_(last)
        )
    )
    return {row.entity_id: row for row in rows.all()}


async def verify_table(
    session: AsyncSession,
    entity: str,
    model: type[SQLModel],
    *,
    only: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> Breach | None:
    """Every row of ``model`` (``only``: just these ids) is its last audit record's state;
    with every row, also that no audited row has vanished."""
    progress = progress or silent()
    table: Any = model.__table__  # type: ignore[attr-defined]
    id_column = table.c.id
    keys = [column.key for column in table.columns]
    seen: set[str] = set()
    wanted = (
        sorted({int(i) for i in only if i.isascii() and i.isdigit()}) if only is not None else None
    )
    last_id: Any = None
    while True:
        stmt = select(table).order_by(id_column).limit(CHUNK)
        if wanted is not None:
            part, wanted = wanted[:CHUNK], wanted[CHUNK:]
            if not part:
                break
            stmt = stmt.where(id_column.in_(part))
        elif last_id is not None:
            stmt = stmt.where(id_column > last_id)
        # plain dicts of the tuples (a row mapping's ``get`` costs a Python call per column)
        rows = [
            dict(zip(keys, values, strict=True)) for values in (await session.execute(stmt)).all()
        ]
        if not rows:
            if wanted is None:
                break
            continue
        ids = [str(row["id"]) for row in rows]
        latest = await _latest_states(session, entity, ids)
        for row, key in zip(rows, ids, strict=True):
            record = latest.get(key)
            if record is None:
                return Breach(
                    row.get("hall_id"),
                    None,
                    None,
                    "row has no audit record (written behind the system's back)",
                    entity,
                    key,
                )
            current = row_snapshot(table, row)
            # The record holds the canonical JSON of the state it wrote; a row still in that
            # state has the same text. Only a row whose text differs is compared value by
            # value (a column added since, or a value that round-trips to another text).
            if canonical_json(current) == record.after:
                difference = None
            else:
                difference = _difference(table, _decode(record.after) or {}, current)
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
        progress.advance(len(rows))
        last_id = rows[-1]["id"]
    if only is not None:
        return await _vanished(session, entity, set(only) - seen)
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
        return await _vanished(session, entity, set(audited_ids) - seen)
    return None


async def _vanished(session: AsyncSession, entity: str, missing: set[str]) -> Breach | None:
    for key in sorted(missing, key=lambda k: (len(k), k)):
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


async def recorded_entities(session: AsyncSession) -> list[str]:
    """The entities of the audited tables that records name: the tables check 4 reads."""
    tables = audited_tables()
    entities = (await session.execute(select(AuditRecord.entity).distinct())).scalars()  # type: ignore[call-overload]
    return sorted(e for e in entities if e in tables)


async def verify_rows(
    session: AsyncSession,
    *,
    only: dict[str, set[str]] | None = None,
    progress: Progress | None = None,
) -> Breach | None:
    """Every audited table (``only``: entity → the ids to check, from an incremental verify)."""
    tables = audited_tables()
    names = await recorded_entities(session) if only is None else sorted(only)
    for entity in names:
        model = tables.get(entity)
        if model is None:
            continue
        breach = await verify_table(
            session, entity, model, only=None if only is None else only[entity], progress=progress
        )
        if breach is not None:
            return breach
    return None


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
