"""Moving a chain sealed with plain SHA-256 onto the audit key (审计链改用密钥), once, explicitly.

Records written before the audit key existed were sealed with plain SHA-256, which anyone can
recompute. They are never re-hashed: the re-key step (run by migration 0005, by the operator
who holds the key) appends to each such chain one record, ``audit.rekey``, sealed with the
key, whose ``after`` names the last plain record (``legacy_seq``, ``legacy_hash``) and the
key's public id. ``audit verify`` then checks the records before it under plain SHA-256 and
it and every later record under the key: rewriting an old record changes the plain chain's
head, which the keyed re-key record still names, so it shows; deleting the re-key record
leaves a chain with no keyed start, which shows too.

A chain started after the key existed is keyed from its first record and has no re-key
record.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..chain import GENESIS_HASH, LEGACY_SHA256, REKEY_ACTION, AuditKey, record_hash
from ..db import TZDateTime

log = logging.getLogger("window_service.audit")

REKEY_ENTITY = "audit_chain"
REKEY_REASON = (
    "审计链自此改用审计密钥封存（HMAC-SHA256），此前的记录仍按原 SHA-256 规则核验 "
    "(audit chain sealed with the audit key from here on; earlier records verify under plain "
    "SHA-256)"
)

# The tables as they are at migration 0005 (not the models, which may grow later).
_RECORD = sa.table(
    "audit_record",
    sa.column("id", sa.Integer),
    sa.column("hall_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("at", TZDateTime),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("reason", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_RECORD_FIELDS = tuple(
    "hall_id seq at actor action entity entity_id before after reason prev_hash hash".split()
)
_LEDGER = sa.table(
    "hall_ledger",
    sa.column("hall_id", sa.Integer),
    sa.column("audit_seq", sa.Integer),
    sa.column("audit_hash", sa.String),
)


def rekey_after(key: AuditKey, legacy_seq: int, legacy_hash: str) -> dict[str, Any]:
    """The ``after`` of a re-key record."""
    return {
        "scheme": key.scheme,
        "key_id": key.key_id,
        "legacy_scheme": LEGACY_SHA256.scheme,
        "legacy_seq": legacy_seq,
        "legacy_hash": legacy_hash,
    }


def _keyed_already(connection: Connection, hall_id: int, head_seq: int, key: AuditKey) -> bool:
    """Whether a chain needs no re-key record: it has one, or its head is sealed with the key
    (the migration run again after a downgrade must not add a second)."""
    c = _RECORD.c
    if connection.execute(
        sa.select(c.id).where(c.hall_id == hall_id, c.action == REKEY_ACTION).limit(1)
    ).first():
        return True
    names = _RECORD_FIELDS
    head = connection.execute(
        sa.select(*(c[name] for name in names)).where(c.hall_id == hall_id, c.seq == head_seq)
    ).first()
    if head is None:
        return False
    fields = dict(zip(names, head, strict=True))
    digest = fields.pop("hash")
    return bool(record_hash(key=key, **fields) == digest)


def rekey_chains(connection: Connection, key: AuditKey, now: datetime | None = None) -> list[str]:
    """Append the re-key record to every hall's chain that has records (all of them plain:
    this runs once, in migration 0005, before any keyed record exists). Returns one line per
    hall re-keyed, for the operator."""
    now = now or datetime.now(UTC)
    ledgers = connection.execute(
        sa.select(_LEDGER.c.hall_id, _LEDGER.c.audit_seq, _LEDGER.c.audit_hash)
        .where(_LEDGER.c.audit_seq > 0)
        .order_by(_LEDGER.c.hall_id)
    ).all()
    done: list[str] = []
    for hall_id, audit_seq, audit_hash in ledgers:
        legacy_seq, legacy_hash = int(audit_seq), str(audit_hash or GENESIS_HASH)
        if _keyed_already(connection, int(hall_id), legacy_seq, key):
            continue
        seq = legacy_seq + 1
        after = rekey_after(key, legacy_seq, legacy_hash)
        fields: dict[str, Any] = {
            "hall_id": int(hall_id),
            "seq": seq,
            "at": now,
            "actor": "system",
            "action": REKEY_ACTION,
            "entity": REKEY_ENTITY,
            "entity_id": str(hall_id),
            "before": None,
            "after": after,
            "reason": REKEY_REASON,
            "prev_hash": legacy_hash,
        }
        digest = record_hash(key=key, **fields)
        connection.execute(sa.insert(_RECORD).values(**fields, hash=digest))
        connection.execute(
            sa.update(_LEDGER)
            .where(_LEDGER.c.hall_id == hall_id)
            .values(audit_seq=seq, audit_hash=digest)
        )
        line = (
            f"hall {hall_id}: records 1-{legacy_seq} stay plain SHA-256 (head {legacy_hash}); "
            f"record {seq} re-keys the chain (key id {key.key_id})"
        )
        log.warning("审计链已改用密钥 (audit chain re-keyed): %s", line)
        done.append(line)
    return done
