"""`window-service audit verify`: an intact record passes; every kind of tampering is named."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.audit import serve_one, tamper, verify
from tests.support.dbs import AUDIT_KEY
from tests.support.settings import SHANGHAI
from window_service.chain import LEGACY_SHA256, AuditKey, canonical_json, record_hash, to_jsonable
from window_service.ledger import AuditRecord


async def test_intact_record_verifies(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await serve_one(client)
    code, out = await verify(db_url, capsys)
    assert code == 0, out
    assert "intact" in out


TAMPERING: dict[str, tuple[list[str], bool, str]] = {
    # a ticket row changed without the system (a "finished" ticket made to look waiting)
    "row changed": (
        ["UPDATE ticket SET status = 'waiting' WHERE status = 'done'"],
        False,
        "ticket id",
    ),
    # a staff account's password hash swapped to sign in as them
    "secret swapped": (
        ["UPDATE app_user SET password_hash = 'x' WHERE username = 'w2'"],
        False,
        "app_user id",
    ),
    # a ticket smuggled in with no audit record
    "row without record": (
        [
            "INSERT INTO ticket (hall_id, service_id, original_service_id, prefix, seq_no, number,"
            " business_day, status, green, queued_at, recalls, call_count, track_token)"
            " SELECT hall_id, service_id, original_service_id, prefix, 99, 'A099', business_day,"
            " 'waiting', false, queued_at, 0, 0, 'smuggled-token-0001' FROM ticket"
            " WHERE number = 'A001'"
        ],
        False,
        "no audit record",
    ),
    # an audited ticket removed
    "row deleted": (
        [
            "DELETE FROM ticket_event WHERE ticket_id = (SELECT id FROM ticket WHERE number = 'A002')",
            "DELETE FROM ticket WHERE number = 'A002'",
        ],
        False,
        "vanished",
    ),
    # a record's content rewritten (who did it)
    "record edited": (
        ["UPDATE audit_record SET actor = 'user:w2' WHERE action = 'ticket.finish'"],
        True,
        "does not match its hash",
    ),
    # a record removed from the middle of the chain
    "record removed": (
        ["DELETE FROM audit_record WHERE action = 'ticket.start'"],
        True,
        "gap in sequence",
    ),
    # the last records cut off the end (the chain alone would still look whole)
    "tail cut": (
        [
            "DELETE FROM audit_record WHERE seq = (SELECT max(seq) FROM audit_record)",
        ],
        True,
        "chain ends early",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_is_named(
    case: str, client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await serve_one(client)
    statements, bypass, expected = TAMPERING[case]
    await tamper(db_url, *statements, bypass_guard=bypass)
    code, out = await verify(db_url, capsys)
    assert code != 0, out
    assert "broken" in out and expected in out, out


async def test_records_stored_as_other_json_text_still_verify(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records are hashed as their JSON text is stored; a release that stored other text for
    the same values (PostgreSQL's JSON with spaces, before 2026-12) still verifies, and a
    changed value in that text is still named."""
    await serve_one(client)
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rid, after = (
                await conn.execute(
                    select(AuditRecord.id, AuditRecord.after).where(  # type: ignore[call-overload]
                        AuditRecord.action == "ticket.finish"
                    )
                )
            ).one()
    finally:
        await engine.dispose()

    def stored(value: dict[str, Any]) -> str:
        quoted = json.dumps(value).replace("'", "''")  # spaces, ASCII escapes, keys unsorted
        return f"UPDATE audit_record SET after = '{quoted}' WHERE id = {rid}"

    shuffled = dict(reversed(list(after.items())))
    await tamper(db_url, stored(shuffled), bypass_guard=True)
    code, out = await verify(db_url, capsys)
    assert code == 0, out
    await tamper(db_url, stored({**shuffled, "status": "waiting"}), bypass_guard=True)
    code, out = await verify(db_url, capsys)
    assert code == 1 and "does not match its hash" in out, out


async def test_every_record_is_stored_as_the_canonical_json_it_was_hashed_from(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """What ``audit verify`` hashes as stored: records of the issuing batch and of every
    other commit (PostgreSQL's one-statement commit among them) hold canonical JSON text."""
    await serve_one(client)
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(  # type: ignore[call-overload]
                        AuditRecord.action,
                        cast(AuditRecord.before, Text),
                        cast(AuditRecord.after, Text),
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    actions = {action for action, _, _ in stored}
    assert {"ticket.issue", "ticket.call", "ticket.finish"} <= actions, actions
    for action, before, after in stored:
        for stored_text in (before, after):
            if stored_text is not None:
                assert stored_text == canonical_json(json.loads(stored_text)), action


async def test_postgresql_refuses_to_change_records(
    client: httpx.AsyncClient, db_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    await serve_one(client)
    for sql in (
        "UPDATE audit_record SET reason = 'nothing happened'",
        "DELETE FROM audit_record",
        "TRUNCATE audit_record",
    ):
        with pytest.raises(Exception, match="append-only"):
            await tamper(db_url, sql)


def test_a_records_hash_is_the_hmac_of_its_canonical_json() -> None:
    """The hash is computed piecewise (``after`` spliced in, serialized once); it must stay the
    HMAC-SHA256 under the audit key of the whole record's canonical JSON (plain SHA-256 for
    records sealed before the chain was keyed, or those would no longer verify). Strings that
    look like JSON syntax, non-ASCII text and nested values included."""
    secret = AUDIT_KEY.encode()
    key = AuditKey(secret)
    strings = ["", "窗口", '"1",\\', ',"at":', "\u2028", "a\\", '"}', "x" * 300]
    for seed in range(500):
        pick = random.Random(seed).choice
        fields: dict[str, Any] = {
            "hall_id": pick([1, 2, 99]),
            "seq": pick([1, 41, 10**6]),
            "at": datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI) + timedelta(seconds=seed),
            "actor": pick(strings),
            "action": pick(strings),
            "entity": pick(strings),
            "entity_id": pick(strings),
            "before": pick([None, {}, {"b": pick(strings), "a": [1, {"z": None, "y": 2.5}]}]),
            "after": pick([None, {"id": seed, "名称": pick(strings), "green": True}]),
            "reason": pick(strings),
            "prev_hash": pick(["0" * 64, "f" * 64]),
        }
        whole = {**fields, "at": to_jsonable(fields["at"])}
        canonical = json.dumps(whole, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert (
            record_hash(key=key, **fields)
            == hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
        )
        assert (
            record_hash(key=LEGACY_SHA256, **fields)
            == hashlib.sha256(canonical.encode()).hexdigest()
        )
