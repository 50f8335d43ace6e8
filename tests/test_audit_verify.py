"""`window-service audit verify`: an intact record passes; every kind of tampering is named."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.conftest import SHANGHAI, issue, login
from window_service.audit.anchors import anchor_job, board_context, write_anchors
from window_service.audit.chain import record_hash, to_jsonable
from window_service.audit.models import AuditRecord
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock
from window_service.halls.models import Hall


async def serve_one(client: httpx.AsyncClient) -> dict[str, Any]:
    """A citizen takes a ticket, window 1 calls, serves and finishes it; another waits."""
    ticket = await issue(client, "hukou")
    await issue(client, "hukou", priority="elderly")
    w1 = await login(client, "w1")
    called = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert called.status_code == 200
    tid = called.json()["id"]
    assert (await client.post(f"/api/v1/tickets/{tid}/start", headers=w1)).status_code == 200
    done = await client.post(
        f"/api/v1/tickets/{tid}/finish", json={"outcome": "completed"}, headers=w1
    )
    assert done.status_code == 200
    assert (await client.post("/api/v1/windows/1/pause", headers=w1)).status_code == 200
    return ticket


async def tamper(db_url: str, *statements: str, bypass_guard: bool = False) -> None:
    """Change the database behind the system's back, as a person with database access could."""
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            if bypass_guard and conn.dialect.name == "postgresql":
                # The table owner can switch triggers off; verify must still notice.
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def verify(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = await verify_command(db_url)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


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


async def _with_app_session(app: Any, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    async with app.state.core.db.write() as session:
        result = await fn(session)
        await session.commit()
        return result


async def test_daily_anchor_published_and_checked(
    app: Any,
    client: httpx.AsyncClient,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await serve_one(client)
    anchors = (await client.get("/api/v1/halls/demo/audit/anchors")).json()
    assert anchors["anchors"] == []  # the day is not over yet
    head = anchors["head"]
    assert head["seq"] > 0 and len(head["hash"]) == 64

    async def anchor(session: Any) -> int:
        hall = (await session.execute(text("SELECT id FROM hall WHERE code = 'demo'"))).scalar()
        return await write_anchors(
            session, await session.get(Hall, hall), datetime.now(SHANGHAI) + timedelta(days=1)
        )

    async def record_days(session: Any) -> set[str]:
        stamps = (await session.execute(select(AuditRecord.at))).scalars()
        return {at.astimezone(SHANGHAI).date().isoformat() for at in stamps}

    # One anchor per hall day with records: usually one, two when the demo hall was seeded
    # before the hall's midnight and this test ran after it.
    days = await _with_app_session(app, record_days)
    assert await _with_app_session(app, anchor) == len(days)
    assert await _with_app_session(app, anchor) == 0  # written once
    # the housekeeping job (every process runs it) writes nothing more
    app.state.core.clock = FixedClock(datetime.now(SHANGHAI) + timedelta(days=2))
    await anchor_job(app.state.core)
    anchors = (await client.get("/api/v1/halls/demo/audit/anchors")).json()
    assert sorted(a["day"] for a in anchors["anchors"]) == sorted(days)
    day = max(anchors["anchors"], key=lambda a: a["day"])
    assert day["day"] == datetime.now(SHANGHAI).date().isoformat()
    assert (day["seq"], day["hash"]) == (head["seq"], head["hash"])

    # the notice board's part
    async def board(session: Any) -> dict[str, Any]:
        hall = (await session.execute(text("SELECT id FROM hall WHERE code = 'demo'"))).scalar()
        return await board_context(session, await session.get(Hall, hall))

    context = await _with_app_session(app, board)
    html = app.state.core.templates.env.get_template("audit_anchors.html").render(
        _=lambda s: s, **context
    )
    assert day["hash"][:16] in html and "/api/v1/halls/demo/audit/anchors" in html
    # ... and the public notice board shows it to anyone in the hall
    page = (await client.get("/board/demo")).text
    assert "审计记录每日锚点" in page and day["hash"][:16] in page

    # Someone rewrites history *consistently*: every record re-chained, the ledger updated.
    # Only the published anchor still shows it.
    await _rechain_with_new_actor(db_url)
    code, out = await verify(db_url, capsys)
    assert code != 0 and "anchor" in out, out


async def _rechain_with_new_actor(db_url: str) -> None:
    from window_service.audit.chain import GENESIS_HASH, record_hash

    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await _rechain(conn, record_hash, GENESIS_HASH)
    finally:
        await engine.dispose()


async def _rechain(conn: AsyncConnection, record_hash: Any, genesis: str) -> None:
    from sqlalchemy import select, update

    from window_service.audit.models import AuditRecord
    from window_service.realtime.models import HallLedger

    rows = (await conn.execute(select(AuditRecord).order_by(AuditRecord.seq))).all()  # type: ignore[arg-type]
    prev = genesis
    for row in rows:
        actor = "user:w2" if row.actor == "user:w1" else row.actor
        digest = record_hash(
            hall_id=row.hall_id,
            seq=row.seq,
            at=row.at,
            actor=actor,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            before=row.before,
            after=row.after,
            reason=row.reason,
            prev_hash=prev,
        )
        await conn.execute(
            update(AuditRecord)
            .where(AuditRecord.id == row.id)  # type: ignore[arg-type]
            .values(actor=actor, prev_hash=prev, hash=digest)
        )
        prev = digest
    await conn.execute(update(HallLedger).values(audit_hash=prev))


def test_a_records_hash_is_the_sha256_of_its_canonical_json() -> None:
    """The hash is computed piecewise (``after`` spliced in, serialized once); it must stay the
    SHA-256 of the whole record's canonical JSON, or records written before would no longer
    verify. Strings that look like JSON syntax, non-ASCII text and nested values included."""
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
        assert record_hash(**fields) == hashlib.sha256(canonical.encode()).hexdigest()
