"""The hash chain of the audit records, and the canonical JSON it hashes (and the database stores)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import SQLModel

GENESIS_HASH = "0" * 64
#: The action of the record that moves a chain from plain SHA-256 to the keyed hash.
REKEY_ACTION = "audit.rekey"
#: Columns whose value is never written into the record; a digest stands in for it, so a
#: secret swapped behind the system's back (to sign in as someone) still shows in verify.
SECRET_COLUMNS = frozenset({"password_hash", "key_hash"})
#: Citizens' personal data (个人信息): names and phone numbers, per table. They are left out of
#: every audit record, so that erasing them after the retention period (``privacy``) leaves
#: the chain whole and no copy of them in the append-only record.
PERSONAL_COLUMNS: dict[str, frozenset[str]] = {
    "case_file": frozenset({"applicant_name", "applicant_phone"}),
    "consultation": frozenset({"citizen_name"}),
    "feedback": frozenset({"contact"}),
    "appointment": frozenset({"name"}),
    # never audited anyway: the number an SMS/WeChat alert goes to (notify/)
    "alert_contact": frozenset({"phone"}),
}


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
        return _utc_iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else to_jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


@functools.lru_cache(maxsize=512)
def _utc_iso(value: datetime) -> str:
    # The rows a transaction writes share its timestamps: each converted once.
    return value.astimezone(UTC).isoformat()


def snapshot(obj: SQLModel, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every column of a row, JSON-ready: the canonical form that ``audit verify`` compares.

    Secrets (password hashes, device key hashes) are replaced by a digest of themselves.
    """
    return _canonical(obj.__table__, lambda key: getattr(obj, key), exclude)  # type: ignore[attr-defined]


def row_snapshot(table: Any, row: Mapping[Any, Any]) -> dict[str, Any]:
    """``snapshot`` of a row given as the column values just written (no ORM object):
    the same canonical form, so ``audit verify`` compares it with the stored row."""
    return _canonical(table, row.get, frozenset())


def _canonical(
    table: Any, value_of: Callable[[str], Any], exclude: frozenset[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, secret in _columns(table):
        if key in exclude:
            continue
        value = value_of(key)
        if secret:
            out[key] = secret_digest(value)
        else:
            out[key] = value if type(value) in _PLAIN else to_jsonable(value)
    return out


_COLUMNS: dict[Any, tuple[tuple[str, bool], ...]] = {}


def _columns(table: Any) -> tuple[tuple[str, bool], ...]:
    """A table's column keys, each with whether it holds a secret; in key order, the order
    of the canonical JSON (which then has little left to sort). Personal columns are left
    out."""
    columns = _COLUMNS.get(table)
    if columns is None:
        personal = PERSONAL_COLUMNS.get(getattr(table, "name", ""), frozenset())
        columns = tuple(
            sorted((c.key, c.key in SECRET_COLUMNS) for c in table.columns if c.key not in personal)
        )
        _COLUMNS[table] = columns
    return columns


#: The canonical form's encoder, made once (``json.dumps`` with options makes one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
#: A string as a JSON string literal, as ``_CANONICAL`` writes it.
_string = json.encoder.encode_basestring


def canonical_json(value: Any) -> str:
    """The JSON text of a value as the hash chain reads it: keys sorted, no spaces, UTF-8."""
    return _CANONICAL.encode(value)


class ChainKey:
    """How a record's hash is made from its canonical text (the chain's hash scheme).

    ``AuditKey`` (HMAC-SHA256 under the hall's audit key, 审计密钥) seals every record written
    now; ``LEGACY_SHA256`` (plain SHA-256) is the rule records written before the chain was
    keyed were sealed with, and only ``audit verify`` uses it, for those records.
    """

    scheme: str
    key_id: str

    def digest(self, text: str) -> str:
        raise NotImplementedError


class _PlainSha256(ChainKey):
    scheme = "sha256"
    key_id = ""

    def digest(self, text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


LEGACY_SHA256: ChainKey = _PlainSha256()


class AuditKey(ChainKey):
    """HMAC-SHA256 under the audit key: nobody without the key can make a record's hash, so an
    insider who rewrites a record cannot re-chain the rest. The HMAC state of the key is made
    once and copied per record (as cheap as plain SHA-256)."""

    scheme = "hmac-sha256"

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the audit key is empty")
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        #: A public name of the key (not the key): anchors carry it, so ``audit verify`` can
        #: tell a wrong key from a rewritten record.
        self.key_id = hmac.new(key, b"window_service audit key id", hashlib.sha256).hexdigest()[:16]

    def digest(self, text: str) -> str:
        h = self._keyed.copy()
        h.update(text.encode("utf-8"))
        return h.hexdigest()


def record_hash(
    *,
    key: ChainKey,
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
    after_json: str | None = None,
    before_json: str | None = None,
) -> str:
    """The record's hash: HMAC-SHA256 under ``key`` (plain SHA-256 for ``LEGACY_SHA256``) of
    the canonical JSON of all its fields and its predecessor's hash. ``after_json``, when
    given, is ``canonical_json(after)`` already made (the issuing batch stores that same
    text, see ``transaction.Sealed``); so is ``before_json`` (``audit verify`` keeps the
    text of an entity's last state, which is the next record's ``before``)."""
    if after_json is None:
        after_json = canonical_json(after)
    if before_json is None:
        before_json = canonical_json(before)
    # ``canonical_json`` of the whole record, written out field by field in key order:
    # ``after`` (the largest, often serialized already) is not serialized again.
    canonical = (
        f'{{"action":{_string(action)},"actor":{_string(actor)},"after":{after_json},'
        f'"at":{_string(to_jsonable(at))},"before":{before_json},'
        f'"entity":{_string(entity)},"entity_id":{_string(entity_id)},'
        f'"hall_id":{int(hall_id)},"prev_hash":{_string(prev_hash)},'
        f'"reason":{_string(reason)},"seq":{int(seq)}}}'
    )
    return key.digest(canonical)
