"""The insider who can write the database but does not hold the audit key: a rewritten and
re-chained rating or inspection, a chain re-made from its start, a deleted rating: each named."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.audit import (
    delete_rating,
    insider,
    office_visit,
    rate,
    rechain,
    rewrite,
    serve_one,
    verify,
)
from tests.support.client import issue
from window_service.chain import LEGACY_SHA256, AuditKey

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
