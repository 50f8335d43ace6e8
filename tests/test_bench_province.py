"""The province benchmark's dataset (``bench/province_data.py``), at a small scale: halls
seeded through the hall import, history loaded in the product's shape, and a valid chain."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.support.dbs import postgres_admin_url
from tests.support.settings import ROOT
from window_service.audit.verify import verify_command
from window_service.chain import AuditKey
from window_service.db import create_database
from window_service.migrate import upgrade

sys.path.insert(0, str(ROOT / "bench"))
from province_data import load_history, seed_halls

pytestmark = pytest.mark.slow
KEY = b"test-province-audit-key"


def _dsn(url: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


async def test_small_province_history_keeps_the_audit_chain_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("the dataset is loaded with PostgreSQL's COPY")
    name = f"province_smoke_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(_dsn(admin, "postgres"))
    await server.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        key = AuditKey(KEY)
        db = create_database(url, audit_key=key)
        try:
            await seed_halls(db, 2, "Asia/Shanghai", "Smoke-Test-Pass-1", "smoke-kiosk")
        finally:
            await db.dispose()
        counts = await load_history(
            url, _dsn(admin, name), key, KEY, days=2, tickets=30, end=date(2026, 11, 27), workers=2
        )
        assert counts["ticket"] >= 2 * 2 * 20
        assert counts["audit_record"] > 3 * counts["ticket"]  # issue, call, start, finish …
        assert counts["audit_anchor"] == 4  # every hall-day anchored
        conn = await asyncpg.connect(_dsn(admin, name))
        try:
            days = await conn.fetch(
                "SELECT DISTINCT business_day FROM ticket ORDER BY business_day"
            )
            assert [r[0] for r in days] == [date(2026, 11, 25), date(2026, 11, 26)]
            unaudited = await conn.fetchval(
                "SELECT count(*) FROM ticket t WHERE NOT EXISTS (SELECT 1 FROM audit_record a"
                " WHERE a.entity = 'ticket' AND a.entity_id = t.id::text)"
            )
            assert unaudited == 0
            statuses = {r[0] for r in await conn.fetch("SELECT DISTINCT status FROM ticket")}
            assert statuses <= {"done", "no_show"}
        finally:
            await conn.close()
        capsys.readouterr()
        assert await verify_command(url, key=KEY) == 0, capsys.readouterr().err
        assert await verify_command(url, key=KEY, since_anchor=True) == 0
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()
