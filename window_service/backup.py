"""Backup and restore of the embedded SQLite database (备份与恢复), and the nightly backup.

- ``backup_sqlite(source, dest)``: SQLite's online backup API (``sqlite3.Connection.backup``)
  copies the whole database in one step, inside one read transaction: the copy is the
  database as of one commit, while the server goes on issuing (in WAL mode writers do not
  wait for the reader). The copy is written next to ``dest`` and renamed into place once it
  has passed ``PRAGMA integrity_check``, in rollback-journal mode: one self-contained file.
- ``restore_sqlite(backup, target)``: checks the backup (a SQLite file that passes the
  integrity check and holds this application's schema), refuses while another process has the
  target open (a running ``serve``: it would go on from numbers and caches the restore takes
  away) unless ``force``, keeps the current database as ``TARGET.before-restore-…``, then
  copies the backup into the target through the same backup API (so SQLite's own locking and
  WAL stay in charge; never a file copy over a live database).
- ``nightly_backup(state)`` (a housekeeping job): once a day, from ``backup_hour`` in the
  configured time zone, ``var/backups/window_service-YYYYMMDD.db``; the newest ``backup_keep``
  files are kept.

PostgreSQL is backed up with ``pg_dump`` (``pg_dump_command``): see the README.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from .db import _sqlite_path

if TYPE_CHECKING:
    from .state import AppState

log = logging.getLogger("window_service.backup")

NIGHTLY = re.compile(r"^window_service-[0-9]{8}\.db$")
#: Tables a window_service database has (a file without them is no backup of ours).
REQUIRED_TABLES = ("alembic_version", "hall", "ticket", "audit_record")


class BackupError(Exception):
    """Why a backup or restore was refused (a message for the operator)."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    bytes: int
    tickets: int
    audit_records: int


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL or an in-memory database."""
    return _sqlite_path(database_url)


def _check(conn: sqlite3.Connection, what: str) -> tuple[int, int]:
    result = conn.execute("PRAGMA integrity_check").fetchone()
    if result is None or result[0] != "ok":
        raise BackupError(f"{what} 未通过完整性检查 (integrity check failed): {result}")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(
            f"{what} 不是本系统的数据库 (not a window_service database: no {', '.join(missing)})"
        )
    tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()[0]
    records = conn.execute("SELECT count(*) FROM audit_record").fetchone()[0]
    return int(tickets), int(records)


def backup_sqlite(source: Path, dest: Path) -> BackupInfo:
    """A consistent copy of the live database ``source`` at ``dest`` (see the module doc)."""
    if not source.exists():
        raise BackupError(f"没有这个数据库文件 (no database file): {source}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(part)
        try:
            # One step (pages=-1): the whole database from one read transaction, so the copy
            # is one commit's state even while tickets are being issued.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            tickets, records = _check(dst, "备份")
        finally:
            dst.close()
    finally:
        src.close()
    part.replace(dest)
    return BackupInfo(dest, dest.stat().st_size, tickets, records)


def database_in_use(path: Path) -> bool:
    """Whether another process has the database open (a running ``serve`` keeps pooled
    connections): leaving WAL mode needs the only connection, so the attempt tells."""
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0.5)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            if conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] != "delete":
                return True
            conn.execute("PRAGMA journal_mode=WAL")
            return False
        conn.execute("BEGIN EXCLUSIVE")
        conn.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def restore_sqlite(
    backup: Path, target: Path, *, force: bool = False, now: datetime | None = None
) -> tuple[BackupInfo, Path | None]:
    """Replace the database ``target`` by ``backup``. Returns what was restored and where the
    database it replaced was kept (None when there was none)."""
    if not backup.exists():
        raise BackupError(f"没有这个备份文件 (no backup file): {backup}")
    with backup.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"不是 SQLite 数据库文件 (not a SQLite file): {backup}")
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        _check(src, "备份文件")
        if not force and database_in_use(target):
            raise BackupError(
                "数据库正被其他进程使用（服务是否还在运行？）：请先停止 window-service serve，"
                "或加 --force (the database is open by another process, probably a running "
                "server: stop it first, or pass --force)"
            )
        kept = None
        if target.exists():
            stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
            kept = target.with_name(f"{target.name}.before-restore-{stamp}")
            backup_sqlite(target, kept)
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            tickets, records = _check(dst, "恢复后的数据库")
        finally:
            dst.close()
    finally:
        src.close()
    return BackupInfo(target, target.stat().st_size, tickets, records), kept


def _pg_url(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=True).replace(":***@", "@")


def pg_dump_command(database_url: str, file: str) -> str:
    """The pg_dump command that backs up this PostgreSQL database (password from PGPASSWORD
    or ~/.pgpass, never on the command line)."""
    return f"pg_dump --format=custom --file={file} '{_pg_url(database_url)}'"


def pg_restore_command(database_url: str, file: str) -> str:
    return (
        f"pg_restore --clean --if-exists --no-owner --single-transaction "
        f"--dbname='{_pg_url(database_url)}' {file}"
    )


# -- the nightly backup (housekeeping) -------------------------------------------------------


def nightly_name(day: datetime) -> str:
    return f"window_service-{day:%Y%m%d}.db"


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` nightly backups; returns what was removed."""
    nightly = sorted(p for p in directory.iterdir() if NIGHTLY.match(p.name))
    removed = nightly[: max(0, len(nightly) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


async def nightly_backup(state: AppState) -> None:
    """Once a day, from ``backup_hour``: a backup of the SQLite database, with retention."""
    settings = state.settings
    source = sqlite_file(settings.database_url)
    if source is None or settings.backup_keep == 0:
        return
    local = state.clock.now().astimezone(settings.tz)
    if local.hour < settings.backup_hour:
        return
    directory = settings.resolved_backup_dir()
    dest = directory / nightly_name(local)
    if dest.exists():
        return
    info = await asyncio.to_thread(backup_sqlite, source, dest)
    removed = await asyncio.to_thread(prune, directory, settings.backup_keep)
    log.info(
        "nightly backup %s (%d bytes, %d tickets); removed %d old",
        info.path,
        info.bytes,
        info.tickets,
        len(removed),
    )
