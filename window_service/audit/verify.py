"""Verifying the audit record (``window-service audit verify [--anchors FILE] [--since-anchor]``).

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

Checks 0–2 are in ``verify_chain.py``, 3 in ``verify_anchors.py``, 4–5 in
``verify_rows.py``. The audited tables are derived from the records' ``entity`` values,
mapped to the tables of the SQLModel metadata, so a new domain is covered as soon as it
calls ``tx.audit``. Tables without a single ``id`` primary key (link tables) cannot be
matched to records and are skipped; so are entities that are not tables (``tx.audit_raw``
configuration values).

``--since-anchor`` (增量核验) checks only what was written after each hall's newest anchor:
that the anchored record still has its anchored hash, every record after it (chain and
ledger head), and the current rows those records name. What lies before the anchor is
vouched for by the last full verify and by the anchor itself; run the full one regularly.

The tables and the evidence checks of the domains are handed over by ``window_service/models.py``
(``registry.py``): audit imports no domain.

On a terminal (stdout a TTY) a progress bar shows the records and rows checked
(``progress.py``); piped, only the verdict is printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ..chain import AuditKey
from ..db import create_database
from .progress import Progress, silent
from .verify_anchors import (
    _record_hash,
    anchor_breach,
    last_anchor,
    verify_anchor_file,
    verify_anchors,
)
from .verify_apart import RowsApart
from .verify_chain import (
    Breach,
    configured_key,
    count_records,
    halls_with_records,
    verify_chain,
    verify_key,
)
from .verify_rows import (
    audited_tables,
    photo_file_problem,
    recorded_entities,
    verify_evidence,
    verify_rows,
    verify_table,
)

__all__ = [
    "Breach",
    "audited_tables",
    "configured_key",
    "photo_file_problem",
    "verify_all",
    "verify_anchor_file",
    "verify_anchors",
    "verify_chain",
    "verify_command",
    "verify_evidence",
    "verify_key",
    "verify_rows",
    "verify_since_anchor",
    "verify_table",
]


def _key_or_configured(key: AuditKey | None) -> AuditKey:
    key = key or configured_key()
    if key is None:
        raise RuntimeError("no audit key: set WINDOW_SERVICE_AUDIT_KEY")
    return key


async def verify_all(
    session: AsyncSession,
    key: AuditKey | None = None,
    *,
    anchor_files: list[Path] | None = None,
    var_dir: Path | None = None,
    progress: Progress | None = None,
    rows_apart: RowsApart | None = None,
) -> Breach | None:
    """Every check above with the audit ``key`` (by default the configured one); evidence
    files when ``var_dir`` is given. ``rows_apart``: check 4 is under way in a second process
    (``verify_apart.py``), and its result is taken in its turn."""
    key = _key_or_configured(key)
    progress = progress or silent()
    halls = await halls_with_records(session)
    for hall_id in halls:
        breach = await verify_key(session, hall_id, key)
        if breach is not None:
            return breach
    progress.start("chain", await count_records(session) if progress.enabled else 0)
    for hall_id in halls:
        breach = await verify_chain(session, hall_id, key, progress=progress)
        if breach is not None:
            return breach
    progress.finish()
    breach = await verify_anchors(session)
    if breach is not None:
        return breach
    for path in anchor_files or []:
        breach = await verify_anchor_file(session, path, key)
        if breach is not None:
            return breach
    progress.start("rows", await _audited_rows(session) if progress.enabled else 0)
    if rows_apart is not None:
        breach = await rows_apart.result(progress)
    else:
        breach = await verify_rows(session, progress=progress)
    progress.finish()
    if breach is not None or var_dir is None:
        return breach
    return await verify_evidence(session, var_dir)


async def _audited_rows(session: AsyncSession) -> int:
    """How many rows check 4 reads (the progress bar's total): the rows of the audited tables
    that records name (``recorded_entities``)."""
    from sqlalchemy import func, select

    tables = audited_tables()
    total = 0
    for entity in await recorded_entities(session):
        model = tables[entity]
        total += int((await session.execute(select(func.count()).select_from(model))).scalar_one())
    return total


async def verify_since_anchor(
    session: AsyncSession,
    key: AuditKey | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[Breach | None, int]:
    """The incremental verify (see the module's doc): the first breach, or None, and how
    many records it checked. A hall without an anchor is checked whole."""
    key = _key_or_configured(key)
    progress = progress or silent()
    touched: set[tuple[str, str]] = set()
    checked = 0
    for hall_id in await halls_with_records(session):
        breach = await verify_key(session, hall_id, key)
        if breach is not None:
            return breach, checked
        anchor = await last_anchor(session, hall_id)
        start = None
        if anchor is not None:
            breach = anchor_breach(anchor, await _record_hash(session, hall_id, anchor.seq))
            if breach is not None:
                return breach, checked
            start = (anchor.seq, anchor.hash)
        before = progress.done
        breach = await verify_chain(
            session, hall_id, key, start=start, progress=progress, touched=touched
        )
        checked += progress.done - before
        if breach is not None:
            return breach, checked
    progress.finish()
    only: dict[str, set[str]] = {}
    for entity, entity_id in touched:
        only.setdefault(entity, set()).add(entity_id)
    return await verify_rows(session, only=only, progress=progress), checked


async def verify_command(
    url: str,
    *,
    key: bytes | None = None,
    anchor_files: list[Path] | None = None,
    var_dir: Path | None = None,
    since_anchor: bool = False,
    progress: Progress | None = None,
    jobs: int = 1,
    prepare: Callable[[], None] | None = None,
) -> int:
    """``window-service audit verify``: 0 when intact; 1 naming the first breach; 2 without
    an audit key (``key``, by default the configured one). ``progress``: by default a bar
    on stdout when it is a terminal. ``jobs`` 2: the full verify checks the current rows in a
    second process, which runs ``prepare`` first (``verify_apart.py``)."""
    audit_key = AuditKey(key) if key else configured_key()
    if audit_key is None:
        print(
            "没有审计密钥，无法核验 (no audit key: set WINDOW_SERVICE_AUDIT_KEY or "
            "WINDOW_SERVICE_AUDIT_KEY_FILE)",
            file=sys.stderr,
        )
        return 2
    progress = progress or Progress(sys.stdout)
    db = create_database(url, audit_key=audit_key)
    rows_apart = RowsApart(url, prepare) if jobs > 1 and not since_anchor else None
    try:
        async with db.read() as session:
            if since_anchor:
                breach, count = await verify_since_anchor(session, audit_key, progress=progress)
            else:
                breach = await verify_all(
                    session,
                    audit_key,
                    anchor_files=anchor_files,
                    var_dir=var_dir,
                    progress=progress,
                    rows_apart=rows_apart,
                )
                count = await count_records(session)
    finally:
        progress.finish()
        if rows_apart is not None:
            rows_apart.close()
        await db.dispose()
    if breach is not None:
        print(f"审计记录被篡改 (audit record broken): {breach.describe()}", file=sys.stderr)
        return 1
    if since_anchor:
        print(
            f"审计记录完整 (audit chain intact since the last anchors): {count} records "
            f"checked, key id {audit_key.key_id}, the current rows they name match"
        )
        return 0
    files = f", {len(anchor_files)} anchor file(s) match" if anchor_files else ""
    print(
        f"审计记录完整 (audit chain intact): {count} records, key id {audit_key.key_id}, "
        f"current rows{' and evidence files' if var_dir is not None else ''} match{files}"
    )
    return 0
