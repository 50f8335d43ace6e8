"""``audit verify --since-anchor``: only what follows each hall's newest anchor is checked,
quickly, and a breach there is still named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.client import issue
from tests.support.dbs import AUDIT_KEY
from window_service.audit.anchors import anchor_job
from window_service.audit.verify import verify_command


async def _sql(db_url: str, sql: str, *, bypass_guard: bool = False) -> Any:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            if bypass_guard and conn.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            result = await conn.execute(text(sql))
            return result.all() if sql.startswith("SELECT") else None
    finally:
        await engine.dispose()


async def _verify(
    db_url: str, capsys: pytest.CaptureFixture[str], **options: Any
) -> tuple[int, str]:
    capsys.readouterr()
    code = await verify_command(db_url, key=AUDIT_KEY.encode(), **options)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_checks_only_the_records_after_the_anchor(
    app: Any, client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await issue(client, "hukou")
    await anchor_job(app.state.core)
    after = await issue(client, "hukou")
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 0, out
    assert "1 records checked" in out  # the one issue record written after the anchor

    # A row changed after the anchor is named; one changed before is left to the full verify.
    await _sql(db_url, f"UPDATE ticket SET status = 'cancelled' WHERE id = {after['id']}")
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 1 and f"ticket id {after['id']}" in out and "differs" in out, out
    await _sql(db_url, f"UPDATE ticket SET status = 'waiting' WHERE id = {after['id']}")
    await _sql(db_url, f"UPDATE ticket SET status = 'cancelled' WHERE id = {before['id']}")
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 0, out
    code, out = await _verify(db_url, capsys)
    assert code == 1 and f"ticket id {before['id']}" in out, out


async def test_a_rewritten_anchored_record_or_a_cut_tail_is_named(
    app: Any, client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await issue(client, "hukou")
    await anchor_job(app.state.core)
    # the demo hall's anchored record (seq is per hall: other halls have their own)
    hall = (await _sql(db_url, "SELECT id FROM hall WHERE code = 'demo'"))[0][0]
    rows = await _sql(db_url, f"SELECT max(seq) FROM audit_anchor WHERE hall_id = {hall}")
    anchored = int(rows[0][0])
    await issue(client, "hukou")
    await _sql(
        db_url,
        f"DELETE FROM audit_record WHERE hall_id = {hall} AND seq = "
        f"(SELECT max(seq) FROM audit_record WHERE hall_id = {hall})",
        bypass_guard=True,
    )
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 1 and "chain ends early" in out, out
    await _sql(
        db_url,
        # the first hex digit changed (a fixed 'f' left a hash that began with f as it was)
        "UPDATE audit_record SET hash = "
        "(CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(hash, 2) "
        f"WHERE hall_id = {hall} AND seq = {anchored}",
        bypass_guard=True,
    )
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 1 and "anchor" in out and "history rewritten" in out, out


async def test_a_hall_without_anchors_is_checked_whole(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await issue(client, "hukou")
    count = (await _sql(db_url, "SELECT count(*) FROM audit_record"))[0][0]
    code, out = await _verify(db_url, capsys, since_anchor=True)
    assert code == 0, out
    assert f"{count} records checked" in out
