"""A commit's one statement on PostgreSQL: events, audit records, the rows given to
``Tx.insert_at_commit``, the hall's ledger row and the NOTIFY, written in one round trip while
the hall's ledger row is locked (``transaction.Tx.commit``).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, text

from .chain import canonical_json
from .db import TZDateTime

#: The fields of an event row and of an audit record row as the statement reads them.
EVENT_FIELDS = ("seq", "type", "payload")
AUDIT_FIELDS = (
    "seq",
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
#: A commit's rows on PostgreSQL: the same statement text for any number of rows, so it is
#: prepared once, and its rows cost no SQL construction. ``json_to_recordset`` keeps each
#: JSON value's text as given; a JSON null becomes SQL NULL. ``{inserts}``: the rows given
#: to ``insert_at_commit``, one CTE per table.
_PG_COMMIT_SQL = """
    WITH {inserts}new_events AS (
        INSERT INTO hall_event (hall_id, seq, type, payload, created_at)
        SELECT :hall_id, e.seq, e.type, e.payload, :now
        FROM json_to_recordset(CAST(:events AS json)) AS e(seq integer, type text, payload json)
    ), new_audit AS (
        INSERT INTO audit_record (hall_id, seq, at, actor, action, entity, entity_id,
                                  before, after, reason, prev_hash, hash)
        SELECT :hall_id, a.seq, :now, a.actor, a.action, a.entity, a.entity_id,
               a.before, a.after, a.reason, a.prev_hash, a.hash
        FROM json_to_recordset(CAST(:audit AS json)) AS a(
            seq integer, actor text, action text, entity text, entity_id text,
            before json, after json, reason text, prev_hash text, hash text)
    )
    UPDATE hall_ledger
    SET last_event_seq = :last_event_seq, audit_seq = :audit_seq, audit_hash = :audit_hash,
        queue_version = :queue_version
    WHERE hall_id = :hall_id
    RETURNING CASE WHEN :message = '' THEN NULL ELSE pg_notify(:channel, :message) END
    """


@functools.lru_cache(maxsize=16)
def commit_statement(tables: tuple[str, ...]) -> Any:
    """The commit statement, with one more CTE per table whose rows go with the commit
    (``json_populate_recordset`` types each value by the table's own columns)."""
    inserts = "".join(
        f'new_rows_{k} AS (INSERT INTO "{name}" SELECT * FROM '
        f'json_populate_recordset(NULL::"{name}", CAST(:rows_{k} AS json))), '
        for k, name in enumerate(tables)
    )
    return text(_PG_COMMIT_SQL.format(inserts=inserts)).bindparams(
        bindparam("hall_id", type_=Integer),
        bindparam("now", type_=TZDateTime),
        bindparam("events", type_=String),
        bindparam("audit", type_=String),
        bindparam("last_event_seq", type_=Integer),
        bindparam("audit_seq", type_=Integer),
        bindparam("audit_hash", type_=String),
        bindparam("queue_version", type_=Integer),
        bindparam("channel", type_=String),
        bindparam("message", type_=String),
        *(bindparam(f"rows_{k}", type_=String) for k in range(len(tables))),
    )


def iso_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def json_rows(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    """The rows as one JSON array in the canonical form: ``json_to_recordset`` keeps each
    value's text as written, so an audit record's ``before`` and ``after`` are stored as
    the canonical JSON its hash was made of, which ``audit verify`` hashes as it is."""
    return canonical_json([{f: row[f] for f in fields} for row in rows])
