"""The hash chain: how one audit record's hash is computed from its content and its predecessor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import SQLModel

GENESIS_HASH = "0" * 64
#: Columns whose value is never written into the record; a digest stands in for it, so a
#: secret swapped behind the system's back (to sign in as someone) still shows in verify.
SECRET_COLUMNS = frozenset({"password_hash", "key_hash"})


def secret_digest(value: Any) -> str | None:
    if value is None:
        return None
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:32]


#: Types kept as they are (checked first: most values are one of these).
_PLAIN = frozenset({str, int, bool, float, type(None)})


def to_jsonable(value: Any) -> Any:
    """A value as it is kept in an audit record: datetimes as UTC ISO strings, and so on."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def snapshot(obj: SQLModel, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every column of a row, JSON-ready: the canonical form that ``audit verify`` compares.

    Secrets (password hashes, device key hashes) are replaced by a digest of themselves.
    """
    return _canonical(obj.__table__, lambda key: getattr(obj, key), exclude)  # type: ignore[attr-defined]


def row_snapshot(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` of a row given as the column values just written (no ORM object):
    the same canonical form, so ``audit verify`` compares it with the stored row."""
    return _canonical(table, row.get, frozenset())


def _canonical(
    table: Any, value_of: Callable[[str], Any], exclude: frozenset[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        key = column.key
        if key in exclude:
            continue
        value = value_of(key)
        out[key] = secret_digest(value) if key in SECRET_COLUMNS else to_jsonable(value)
    return out


def record_hash(
    *,
    hall_id: int,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    prev_hash: str,
) -> str:
    body = {
        "hall_id": hall_id,
        "seq": seq,
        "at": to_jsonable(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
