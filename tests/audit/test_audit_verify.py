"""`window-service audit verify`: an intact record passes; every kind of tampering is named."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Text, cast, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.support.client import issue, login
from tests.support.dbs import AUDIT_KEY
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.audit.anchors import anchor_job
from window_service.audit.verify import verify_command
from window_service.chain import LEGACY_SHA256, AuditKey, canonical_json, record_hash, to_jsonable
from window_service.clock import FixedClock
from window_service.ledger import AuditRecord


async def serve_one(client: httpx.AsyncClient) -> dict[str, Any]:
    """Two citizens take tickets; window 1 calls, serves and finishes the green-channel one
    (returned, with its rating token); the other waits."""
    await issue(client, "hukou")
    ticket = await issue(client, "hukou", priority="elderly")
    w1 = await login(client, "w1")
    called = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert called.status_code == 200
    tid = called.json()["id"]
    assert tid == ticket["id"]
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


async def verify(
    db_url: str, capsys: pytest.CaptureFixture[str], *anchor_files: Any, **options: Any
) -> tuple[int, str]:
    capsys.readouterr()
    code = await verify_command(
        db_url,
        key=options.pop("key", AUDIT_KEY.encode()),
        anchor_files=list(anchor_files),
        **options,
    )
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


async def _with_app_session(app: Any, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    async with app.state.core.db.write() as session:
        result = await fn(session)
        await session.commit()
        return result


# -- the insider: can write the database, does not hold the audit key ---------------------
async def rate(client: httpx.AsyncClient, ticket: dict[str, Any], rating: int = 5) -> None:
    response = await client.post(
        f"/api/v1/track/{ticket['track_token']}/feedback", json={"rating": rating}
    )
    assert response.status_code == 201, response.text


async def office_visit(client: httpx.AsyncClient) -> dict[str, Any]:
    office = await login(client, "office")
    windows = (await client.get("/api/v1/halls/demo/windows")).json()
    scores = {
        "on_duty": 20,
        "attitude": 20,
        "appearance": 10,
        "one_time_notice": 15,
        "efficiency": 15,
        "fees": 10,
        "integrity": 10,
    }
    response = await client.post(
        "/api/v1/inspections",
        json={
            "window": windows[0]["id"],
            "staff": "w1",
            "visited_at": datetime.now(SHANGHAI).isoformat(),
            "template": "standard",
            "scores": scores,
            "notes": "",
        },
        headers=office,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def insider(db_url: str, work: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    """Someone with write access to the database (the append-only trigger switched off)."""
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            return await work(conn)
    finally:
        await engine.dispose()


async def rechain(conn: AsyncConnection, key: Any, from_seq: int) -> None:
    """Recompute every hash from ``from_seq`` on with the project's own ``record_hash`` and
    ``key`` (not the hall's audit key), and set the ledger's head: a consistent-looking chain."""
    from sqlalchemy import update

    from window_service.ledger import HallLedger

    rows = (
        await conn.execute(
            select(AuditRecord).where(AuditRecord.seq >= from_seq).order_by(AuditRecord.seq)  # type: ignore[arg-type]
        )
    ).all()
    prev = (
        await conn.execute(select(AuditRecord.hash).where(AuditRecord.seq == from_seq - 1))  # type: ignore[call-overload, arg-type]
    ).scalar() or "0" * 64
    for row in rows:
        digest = record_hash(
            key=key,
            hall_id=row.hall_id,
            seq=row.seq,
            at=row.at,
            actor=row.actor,
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
            .values(prev_hash=prev, hash=digest)
        )
        prev = digest
    last = (await conn.execute(select(text("max(seq)")).select_from(AuditRecord))).scalar()
    await conn.execute(update(HallLedger).values(audit_seq=last, audit_hash=prev))


async def rewrite(conn: AsyncConnection, table: str, column: str, value: Any) -> int:
    """Rewrite the newest row of ``table`` and the record of its creation; that record's seq."""
    from sqlalchemy import update

    row_id = (await conn.execute(text(f"SELECT max(id) FROM {table}"))).scalar()
    await conn.execute(
        text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": value, "id": row_id}
    )
    record = (
        await conn.execute(
            select(AuditRecord)
            .where(AuditRecord.entity == table, AuditRecord.entity_id == str(row_id))  # type: ignore[arg-type]
            .order_by(AuditRecord.seq)  # type: ignore[arg-type]
        )
    ).first()
    assert record is not None
    await conn.execute(
        update(AuditRecord)
        .where(AuditRecord.id == record.id)  # type: ignore[arg-type]
        .values(after={**record.after, column: value})
    )
    return int(record.seq)


WITHOUT_THE_KEY = {"plain sha256": LEGACY_SHA256, "a guessed key": AuditKey(b"guessed")}


@pytest.mark.parametrize("guess", list(WITHOUT_THE_KEY))
@pytest.mark.parametrize("target", ["rating", "inspection"])
async def test_insider_rewrite_and_rechain_is_named(
    target: str,
    guess: str,
    client: httpx.AsyncClient,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ticket = await serve_one(client)
    await rate(client, ticket, 5)
    await office_visit(client)
    await issue(client, "qiye")  # records after the rewritten one
    assert (await verify(db_url, capsys))[0] == 0
    table, column, value = (
        ("feedback", "rating", 1) if target == "rating" else ("inspection", "total", 100.0)
    )
    if target == "inspection":
        # a failed visit made to look passed: its total rewritten
        value = 59.0

    async def attack(conn: AsyncConnection) -> int:
        seq = await rewrite(conn, table, column, value)
        await rechain(conn, WITHOUT_THE_KEY[guess], seq)
        return seq

    seq = await insider(db_url, attack)
    code, out = await verify(db_url, capsys)
    assert code != 0, out
    assert f"record seq {seq} " in out and "does not match its hash" in out, out


async def test_insider_rechain_from_genesis_fails_at_the_first_record(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket = await serve_one(client)
    await rate(client, ticket, 5)

    async def attack(conn: AsyncConnection) -> None:
        await rewrite(conn, "feedback", "rating", 1)
        await rechain(conn, LEGACY_SHA256, 1)

    await insider(db_url, attack)
    code, out = await verify(db_url, capsys)
    assert code != 0 and "record seq 1 " in out, out


async def delete_rating(conn: AsyncConnection, renumber: bool) -> int:
    """Delete the newest rating and its audit records; close the gap in the chain."""
    row_id = (await conn.execute(text("SELECT max(id) FROM feedback"))).scalar()
    seqs = sorted(
        (
            await conn.execute(
                select(AuditRecord.seq).where(  # type: ignore[call-overload]
                    AuditRecord.entity == "feedback", AuditRecord.entity_id == str(row_id)
                )
            )
        ).scalars()
    )
    await conn.execute(text("DELETE FROM feedback WHERE id = :id"), {"id": row_id})
    await conn.execute(
        text("DELETE FROM audit_record WHERE entity = 'feedback' AND entity_id = :id"),
        {"id": str(row_id)},
    )
    if renumber:
        later = (
            await conn.execute(
                select(AuditRecord.id, AuditRecord.seq)  # type: ignore[call-overload]
                .where(AuditRecord.seq > seqs[0])
                .order_by(AuditRecord.seq)
            )
        ).all()
        for record_id, seq in later:
            shift = sum(1 for s in seqs if s < seq)
            await conn.execute(
                text("UPDATE audit_record SET seq = :s WHERE id = :id"),
                {"s": seq - shift, "id": record_id},
            )
    return seqs[0]


async def test_insider_deletes_a_rating_and_rechains(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket = await serve_one(client)
    await rate(client, ticket, 1)  # a bad rating someone wants gone
    await issue(client, "qiye")

    async def attack(conn: AsyncConnection) -> int:
        await conn.execute(text("DELETE FROM rectification"))
        await conn.execute(text("DELETE FROM audit_record WHERE entity = 'rectification'"))
        seq = await delete_rating(conn, renumber=True)
        await rechain(conn, LEGACY_SHA256, seq)
        return seq

    seq = await insider(db_url, attack)
    code, out = await verify(db_url, capsys)
    assert code != 0 and "broken" in out, out
    assert f"record seq {seq} " in out, out


# -- anchors ---------------------------------------------------------------------------------
@pytest.fixture
async def clocked(
    db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Any, httpx.AsyncClient, FixedClock]]:
    clock = FixedClock(datetime.now(SHANGHAI))
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield app, c, clock
    await app.state.core.db.dispose()


async def test_anchors_every_15_minutes_of_activity_and_in_the_file(
    clocked: tuple[Any, httpx.AsyncClient, FixedClock],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, client, clock = clocked
    state = app.state.core
    path = tmp_path / "audit_anchors.jsonl"

    async def anchors() -> list[dict[str, Any]]:
        return list((await client.get("/api/v1/halls/demo/audit/anchors")).json()["anchors"])

    await anchor_job(state)  # the demo hall's records (today's too) are anchored at once
    first = await anchors()
    head = (await client.get("/api/v1/halls/demo/audit/anchors")).json()["head"]
    assert [(a["seq"], a["hash"]) for a in first] == [(head["seq"], head["hash"])]
    assert len(path.read_text().splitlines()) == 1
    await anchor_job(state)
    assert len(await anchors()) == 1  # nothing new: no anchor

    await issue(client, "hukou")
    clock.advance(minutes=5)
    await anchor_job(state)
    assert len(await anchors()) == 1  # 5 minutes after the last anchor: not yet
    clock.advance(minutes=10)
    await anchor_job(state)
    second = await anchors()
    assert len(second) == 2 and second[0]["seq"] > first[0]["seq"]
    content = path.read_text()
    clock.advance(minutes=40)
    await anchor_job(state)
    assert len(await anchors()) == 2  # no activity, no anchor
    await issue(client, "budongchan")
    await anchor_job(state)  # the last anchor is 40 minutes old: at once
    third = await anchors()
    assert len(third) == 3
    # The file is only appended to, one line per anchor, each naming its record.
    after = path.read_text()
    assert after.startswith(content)
    lines = [json.loads(line) for line in after.splitlines()]
    assert [(x["seq"], x["hash"]) for x in lines] == [
        (a["seq"], a["hash"]) for a in reversed(third)
    ]
    assert {x["hall"] for x in lines} == {"demo"}
    assert (await verify(db_url, capsys, path))[0] == 0

    # The notice board shows the latest anchors: time, record seq, hash prefix.
    page = (await client.get("/board/demo")).text
    assert "审计记录锚点" in page and third[0]["hash"][:16] in page
    assert third[0]["anchored_at"][:16].replace("T", " ") in page
    english = (await client.get("/board/demo?lang=en")).text
    assert "Audit anchors" in english and "审计记录锚点" not in english


async def _anchored(app: Any, client: httpx.AsyncClient, clock: FixedClock) -> None:
    state = app.state.core
    await anchor_job(state)
    for service in ("hukou", "budongchan", "qiye"):
        await issue(client, service)
        clock.advance(minutes=16)
        await anchor_job(state)


ANCHOR_FILE_TAMPERING: dict[str, tuple[Callable[[list[str]], list[str] | str], str]] = {
    "a hash edited": (
        lambda lines: [lines[0].replace(json.loads(lines[0])["hash"], "f" * 64), *lines[1:]],
        "does not match its seal",
    ),
    "cut mid-line": (lambda lines: "\n".join(lines)[:-20], "incomplete"),
    "a middle line removed": (lambda lines: [lines[0], *lines[2:]], "does not follow"),
    "not a line": (lambda lines: [lines[0], "{not json", *lines[1:]], "malformed"),
}


@pytest.mark.parametrize("case", list(ANCHOR_FILE_TAMPERING))
async def test_tampered_anchor_file_is_named(
    case: str,
    clocked: tuple[Any, httpx.AsyncClient, FixedClock],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, client, clock = clocked
    await _anchored(app, client, clock)
    lines = (tmp_path / "audit_anchors.jsonl").read_text().splitlines()
    assert len(lines) == 4
    change, expected = ANCHOR_FILE_TAMPERING[case]
    changed = change(lines)
    copy = tmp_path / "copy.jsonl"
    copy.write_text(changed if isinstance(changed, str) else "".join(f"{x}\n" for x in changed))
    code, out = await verify(db_url, capsys, copy)
    assert code != 0 and expected in out and "copy.jsonl" in out, out


async def test_anchor_file_shows_a_rating_cut_off_the_end(
    clocked: tuple[Any, httpx.AsyncClient, FixedClock],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The last rating and its records deleted, the ledger wound back and the database's
    anchors with it: the chain looks whole; the anchor file kept elsewhere does not agree."""
    from sqlalchemy import update

    from window_service.ledger import HallLedger

    app, client, _ = clocked
    ticket = await serve_one(client)
    await rate(client, ticket, 5)
    await anchor_job(app.state.core)
    path = tmp_path / "audit_anchors.jsonl"

    async def attack(conn: AsyncConnection) -> None:
        first = await delete_rating(conn, renumber=False)
        last = (
            await conn.execute(select(AuditRecord.hash).where(AuditRecord.seq == first - 1))  # type: ignore[call-overload, arg-type]
        ).scalar()
        await conn.execute(update(HallLedger).values(audit_seq=first - 1, audit_hash=last))
        await conn.execute(text("DELETE FROM audit_anchor WHERE seq >= :s"), {"s": first})

    await insider(db_url, attack)
    code, out = await verify(db_url, capsys, path)
    assert code != 0 and "chain cut short" in out, out


async def test_wrong_or_missing_key(
    clocked: tuple[Any, httpx.AsyncClient, FixedClock],
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, _, _ = clocked
    await anchor_job(app.state.core)
    code, out = await verify(db_url, capsys, key=b"another-key")
    assert code == 1 and "is not the one the chain was sealed with" in out, out
    assert (await verify(db_url, capsys))[0] == 0
    from window_service.audit import verify as verify_module

    monkeypatch.setattr(verify_module, "configured_key", lambda: None)
    code, out = await verify(db_url, capsys, key=None)
    assert code == 2 and "no audit key" in out, out


# -- records written before the audit key: migrated forward, never re-hashed ---------------
async def test_legacy_chain_is_rekeyed_by_the_migration(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database of the previous release: its chain sealed with plain SHA-256. Migration 0005
    appends one keyed re-key record naming the old head; old records keep their hashes."""
    import asyncio

    from alembic import command

    from window_service.migrate import alembic_config, upgrade

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0002")
    await insider(db_url, lambda conn: rechain(conn, LEGACY_SHA256, 1))

    async def hashes(conn: AsyncConnection) -> list[tuple[int, str, str]]:
        rows = await conn.execute(
            select(AuditRecord.seq, AuditRecord.hash, AuditRecord.action).order_by(AuditRecord.seq)  # type: ignore[call-overload]
        )
        return [tuple(r) for r in rows]

    before = await insider(db_url, hashes)
    await asyncio.to_thread(upgrade, db_url, audit_key=AUDIT_KEY.encode())
    after = await insider(db_url, hashes)
    assert after[:-1] == before  # nothing re-hashed
    seq, _, action = after[-1]
    assert action == "audit.rekey" and seq == before[-1][0] + 1
    code, out = await verify(db_url, capsys)
    assert code == 0, out
    # Migrated down and up again: the chain is keyed already, no second re-key record.
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0002")
    await asyncio.to_thread(upgrade, db_url, audit_key=AUDIT_KEY.encode())
    assert await insider(db_url, hashes) == after
    code, out = await verify(db_url, capsys)
    assert code == 0, out

    # An old record rewritten and the plain part re-chained: the keyed re-key record still
    # names the old head.
    async def attack(conn: AsyncConnection) -> None:
        await conn.execute(text("UPDATE audit_record SET actor = 'user:w2' WHERE seq = 2"))
        await rechain(conn, LEGACY_SHA256, 2)
        # the re-key record itself cannot be re-sealed without the key: it is put back
        await conn.execute(
            text("UPDATE audit_record SET hash = :h, prev_hash = :p WHERE seq = :s"),
            {"h": after[-1][1], "p": before[-1][1], "s": seq},
        )
        await conn.execute(text("UPDATE hall_ledger SET audit_hash = :h"), {"h": after[-1][1]})

    await insider(db_url, attack)
    code, out = await verify(db_url, capsys)
    assert code != 0 and f"record seq {seq} " in out, out

    # The re-key record deleted, the whole chain passed off as plain: not keyed anywhere.
    async def unkey(conn: AsyncConnection) -> None:
        await conn.execute(text("DELETE FROM audit_record WHERE action = 'audit.rekey'"))
        await rechain(conn, LEGACY_SHA256, 1)

    await insider(db_url, unkey)
    code, out = await verify(db_url, capsys)
    assert code != 0 and "record seq 1 " in out, out


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
