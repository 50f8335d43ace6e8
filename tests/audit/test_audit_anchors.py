"""Audit anchors (审计锚点) in the database and the anchor file; a wrong or missing key; records
written before the audit key existed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.audit import (
    delete_rating,
    insider,
    rate,
    rechain,
    serve_one,
    verify,
)
from tests.support.client import issue
from tests.support.dbs import AUDIT_KEY
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.audit.anchors import anchor_job
from window_service.chain import LEGACY_SHA256
from window_service.clock import FixedClock
from window_service.ledger import AuditRecord


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
