"""The ``window-service backup FILE`` and ``restore FILE`` commands (see backup.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import get_settings


def cmd_backup(args: argparse.Namespace) -> int:
    from ..backup import BackupError, backup_sqlite, pg_dump_command, sqlite_file

    settings = get_settings()
    source = sqlite_file(settings.database_url)
    if source is None:
        print(
            "PostgreSQL 数据库请用 pg_dump 备份（本命令只备份 SQLite）；命令如下 "
            "(PostgreSQL is backed up by pg_dump; run):",
            file=sys.stderr,
        )
        print(pg_dump_command(settings.database_url, args.file))
        print(
            "另外还须备份 (also back up): var/（secret_key、audit_anchors.jsonl、uploads 证据照片"
            " evidence photos）和审计密钥 (the audit key, kept apart)",
            file=sys.stderr,
        )
        return 2
    try:
        info = backup_sqlite(source, Path(args.file))
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"已备份 (backed up): {info.path} ({info.bytes} bytes, {info.tickets} tickets, "
        f"{info.audit_records} audit records)"
    )
    print(
        "数据库之外还须备份 var/ 下的证据照片与审计锚点文件，审计密钥另行保管 "
        "(also keep var/ uploads and anchors; the audit key apart)",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..backup import BackupError, pg_restore_command, restore_sqlite, sqlite_file

    settings = get_settings()
    target = sqlite_file(settings.database_url)
    if target is None:
        print(
            "PostgreSQL 数据库请用 pg_restore 恢复；命令如下 (PostgreSQL is restored by "
            "pg_restore; stop every server first, then run):",
            file=sys.stderr,
        )
        print(pg_restore_command(settings.database_url, args.file))
        return 2
    try:
        info, kept = restore_sqlite(Path(args.file), target, force=args.force)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"已恢复 (restored): {info.path} ({info.tickets} tickets, "
        f"{info.audit_records} audit records)"
    )
    if kept is not None:
        print(f"原数据库已另存为 (the database it replaced is kept as): {kept}")
    print(
        "请用 window-service audit verify 核验，然后启动服务 (run audit verify, then serve); "
        "a server that was running (--force) must be restarted",
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup", help="back up the SQLite database (online, consistent under load)"
    )
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore", help="restore the SQLite database from a backup (server stopped)"
    )
    restore.add_argument("file")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore even while another process has the database open",
    )
    restore.set_defaults(func=cmd_restore)
