"""``window-service backup`` and ``restore``: a backup taken while kiosks issue is one commit's
database; restored, its audit chain verifies and numbering goes on without a gap. The nightly
backup keeps its newest files. PostgreSQL is pg_dump's job: the command says how."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import KIOSK
from tests.support.dbs import AUDIT_KEY
from tests.support.server import start_server
from tests.support.settings import ROOT, make_settings
from window_service.backup import BackupError, nightly_backup, restore_sqlite, sqlite_file
from window_service.clock import FixedClock

SERVICES = ("hukou", "budongchan", "qiye", "shebao", "shuiwu")


def cli(db_url: str, var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        "WINDOW_SERVICE_SECRET_KEY": "test-secret-key-not-for-production",
        "WINDOW_SERVICE_AUDIT_KEY": AUDIT_KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "window_service", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
    )


def numbering(path: Path) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], int]]:
    """(prefix, day) → the ticket numbers taken, and → the counter's last number."""
    conn = sqlite3.connect(path)
    try:
        taken: dict[tuple[str, str], list[int]] = {}
        for prefix, day, seq in conn.execute(
            "SELECT prefix, business_day, seq_no FROM ticket ORDER BY prefix, business_day, seq_no"
        ):
            taken.setdefault((prefix, str(day)), []).append(seq)
        counters = {
            (prefix, str(day)): last
            for prefix, day, last in conn.execute(
                "SELECT prefix, business_day, last_number FROM ticket_counter"
            )
        }
        ledger = conn.execute("SELECT hall_id, last_event_seq FROM hall_ledger").fetchall()
        for hall_id, last_seq in ledger:
            seqs = [
                s
                for (s,) in conn.execute("SELECT seq FROM hall_event WHERE hall_id = ?", (hall_id,))
            ]
            assert sorted(seqs) == list(range(min(seqs or [1]), last_seq + 1)), hall_id
        return taken, counters
    finally:
        conn.close()


@pytest.mark.slow
async def test_backup_while_issuing_then_restore(backend: str, db_url: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite backup; PostgreSQL is pg_dump's (test below)")
    db_file = sqlite_file(db_url)
    assert db_file is not None
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    server = start_server(db_url, var_dir)
    backup_file = tmp_path / "backup" / "hall.db"
    issued: list[str] = []
    try:
        stop = asyncio.Event()
        reached = asyncio.Event()
        target = [60]

        async def kiosk(k: int) -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                n = 0
                while not stop.is_set():
                    r = await client.post(
                        "/api/v1/halls/demo/tickets",
                        json={"service": SERVICES[(k + n) % len(SERVICES)]},
                        headers=KIOSK,
                    )
                    assert r.status_code == 201, r.text
                    issued.append(r.json()["number"])
                    if len(issued) >= target[0]:
                        reached.set()
                    n += 1

        kiosks = [asyncio.create_task(kiosk(k)) for k in range(6)]
        await reached.wait()
        before = len(issued)
        done = await asyncio.to_thread(cli, db_url, var_dir, "backup", str(backup_file))
        after = len(issued)
        reached.clear()
        target[0] = after + 60
        await reached.wait()
        stop.set()
        await asyncio.gather(*kiosks)
        assert done.returncode == 0, done.stderr
        assert "backed up" in done.stdout
        assert after > before  # the kiosks went on issuing during the backup

        # A running server is refused; the backup is not touched.
        refused = cli(db_url, var_dir, "restore", str(backup_file))
        assert refused.returncode == 1 and "--force" in refused.stderr, refused
    finally:
        server.stop()

    total = len(issued)
    restored = cli(db_url, var_dir, "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    assert "before-restore" in restored.stdout
    verified = cli(db_url, var_dir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    taken, counters = numbering(db_file)
    kept = sum(len(v) for v in taken.values())
    assert before <= kept < total  # one moment during the backup: what was issued by then
    for key, seqs in taken.items():
        assert seqs == list(range(1, len(seqs) + 1)), key  # no gap, no duplicate
        assert counters[key] == len(seqs), key  # the counter is where its tickets are

    # Numbering goes on from the restored counters.
    server = start_server(db_url, var_dir)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.post(
                "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
            )
            assert r.status_code == 201, r.text
            day = r.json()["queued_at"][:10]
            assert r.json()["number"] == f"A{len(taken[('A', day)]) + 1:03d}"
    finally:
        server.stop()
    assert cli(db_url, var_dir, "audit", "verify").returncode == 0


async def test_restore_refuses_what_is_no_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(BackupError, match="SQLite"):
        restore_sqlite(junk, tmp_path / "target.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(BackupError, match="window_service"):
        restore_sqlite(other, tmp_path / "target.db")
    assert not (tmp_path / "target.db").exists()


async def test_nightly_backup_keeps_the_newest(backend: str, db_url: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("nightly backups are SQLite's; PostgreSQL has pg_dump")
    settings = make_settings(db_url, tmp_path, backup_keep=3, backup_hour=2)
    clock = FixedClock(datetime(2026, 11, 1, 17, 0, tzinfo=UTC))  # 01:00 on 2 November in Shanghai
    state: Any = type("State", (), {"settings": settings, "clock": clock})()
    backups = settings.resolved_backup_dir()
    await nightly_backup(state)
    assert not backups.exists()  # before 02:00: not yet
    for _ in range(5):
        clock.advance(hours=2)  # 03:00
        await nightly_backup(state)
        await nightly_backup(state)  # once a day, however often housekeeping runs
        clock.advance(hours=22)
    names = sorted(p.name for p in backups.iterdir())
    assert names == [
        "window_service-20261104.db",
        "window_service-20261105.db",
        "window_service-20261106.db",
    ]
    conn = sqlite3.connect(backups / names[-1])
    assert conn.execute("SELECT code FROM hall").fetchall() == [("demo",)]
    conn.close()


async def test_postgresql_backup_is_pg_dumps_job(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://hall:Pw-9f3kQ@db.example:5432/window_service"
    done = cli(url, tmp_path, "backup", "/backups/hall.dump")
    assert done.returncode == 2
    assert "pg_dump" in done.stderr
    assert done.stdout.strip() == (
        "pg_dump --format=custom --file=/backups/hall.dump "
        "'postgresql://hall@db.example:5432/window_service'"
    )
    assert "Pw-9f3kQ" not in done.stdout + done.stderr
    restore = cli(url, tmp_path, "restore", "/backups/hall.dump")
    assert restore.returncode == 2 and "pg_restore" in restore.stdout
