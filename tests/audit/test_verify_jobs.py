"""``audit verify --jobs 2``: the current rows are checked in a second process, with the same
verdict and the same first breach as one process gives."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.client import issue
from tests.support.dbs import AUDIT_KEY
from window_service.audit.progress import Progress
from window_service.audit.verify import verify_command
from window_service.cli import load_every_table

pytestmark = pytest.mark.slow  # each verify starts a Python process


async def _tamper(db_url: str, sql: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _verify(db_url: str, capsys: pytest.CaptureFixture[str], jobs: int) -> tuple[int, str]:
    capsys.readouterr()
    code = await verify_command(db_url, key=AUDIT_KEY.encode(), jobs=jobs, prepare=load_every_table)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_two_processes_give_the_verdict_and_the_first_breach_of_one(
    client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket: dict[str, Any] = await issue(client, "hukou")
    await issue(client, "hukou")
    code, out = await _verify(db_url, capsys, 2)
    assert code == 0 and "intact" in out and "current rows" in out, out

    # A row changed behind the system's back: named by the second process.
    await _tamper(db_url, f"UPDATE ticket SET status = 'cancelled' WHERE id = {ticket['id']}")
    for jobs in (2, 1):
        code, out = await _verify(db_url, capsys, jobs)
        assert code == 1 and f"ticket id {ticket['id']}" in out and "differs" in out, (jobs, out)

    # A record rewritten as well: the chain's breach comes first, as in one process.
    await _tamper(
        db_url,
        "UPDATE audit_record SET actor = 'user:w2' WHERE id = (SELECT max(id) FROM audit_record)",
    )
    for jobs in (2, 1):
        code, out = await _verify(db_url, capsys, jobs)
        assert code == 1 and "does not match its hash" in out, (jobs, out)
        assert f"ticket id {ticket['id']}" not in out, (jobs, out)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("jobs", [1, 2])
async def test_the_rows_bar_ends_at_its_total_in_one_process_or_two(
    jobs: int, client: httpx.AsyncClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bar's total is the rows checked (those of tables that records name), and with two
    processes it follows the second one's count."""
    await issue(client, "hukou")
    screen = _Terminal()
    code = await verify_command(
        db_url,
        key=AUDIT_KEY.encode(),
        jobs=jobs,
        prepare=load_every_table,
        progress=Progress(screen),
    )
    assert code == 0
    rows = screen.getvalue().split("核验 rows")[-1].split("\n")[0]
    assert "100%" in rows, screen.getvalue()
