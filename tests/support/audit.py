"""Helpers of the audit tests: a served ticket, tampering as someone with database access
would, the insider who also rewrites the chain, and running ``audit verify``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.support.client import issue, login
from tests.support.dbs import AUDIT_KEY
from tests.support.settings import SHANGHAI
from window_service.audit.verify import verify_command
from window_service.chain import record_hash
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
