"""The ``window-service`` hall set-up commands: hall add|template|import|export, device add."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..config import get_settings
from ..db import create_database, utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ..halls.models import Hall
    from ..transaction import Tx


async def _find_hall(session: AsyncSession, code: str) -> Hall | None:
    from ..halls.models import Hall

    hall: Hall | None = (
        await session.execute(select(Hall).where(Hall.code == code))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    return hall


@contextlib.asynccontextmanager
async def _hall_tx(code: str) -> AsyncIterator[tuple[Hall, Tx] | None]:
    """A write transaction on the hall ``code`` as the CLI; None (said on stderr) when there is
    no such hall. The caller commits."""
    from ..transaction import Actor, Tx

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            hall = await _find_hall(session, code)
            if hall is None or hall.id is None:
                print(f"没有这个大厅 (unknown hall): {code}", file=sys.stderr)
                yield None
                return
            yield hall, Tx(session, hall.id, utcnow(), Actor("cli"))
    finally:
        await db.dispose()


async def _hall_add(code: str, name: str, timezone: str, region: str) -> int:
    from ..admin.setup import create_hall
    from ..api.errors import ApiError
    from ..transaction import Actor, Tx

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            tx = Tx(session, 0, utcnow(), Actor("cli"))
            try:
                hall = await create_hall(tx, code=code, name=name, timezone=timezone, region=region)
            except ApiError as exc:
                print(exc.message, file=sys.stderr)
                return 2
            await tx.commit()
            print(f"已创建服务大厅 (hall created): {hall.code} {hall.name}")
            print(f"下一步 (next): window-service user add NAME --role admin --hall {hall.code}")
            return 0
    finally:
        await db.dispose()


def cmd_hall_add(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    return asyncio.run(
        _hall_add(args.code, args.name, args.timezone or settings.timezone, args.region or "")
    )


def cmd_hall_template(args: argparse.Namespace) -> int:
    from ..admin.workbook_write import write_workbook

    if not _write_file(args.file, write_workbook()):
        return 2
    print(f"已写出导入模板 (template written): {args.file}")
    return 0


def _write_file(path: str, data: bytes) -> bool:
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        print(f"无法写入文件 (cannot write file): {exc}", file=sys.stderr)
        return False
    return True


async def _hall_import(code: str, data: bytes, dry_run: bool) -> int:
    from sqlalchemy.exc import IntegrityError

    from ..admin.setup import import_workbook
    from ..admin.setup_apply import SetupRefused

    async with _hall_tx(code) as found:
        if found is None:
            return 2
        hall, tx = found
        try:
            summary = await import_workbook(tx, hall, data, dry_run=dry_run)
        except SetupRefused as refused:
            print(
                f"导入文件有 {len(refused.problems)} 处错误，未写入任何内容 "
                "(errors found; nothing written):",
                file=sys.stderr,
            )
            for problem in refused.problems:
                print(str(problem), file=sys.stderr)
            return 1
        except IntegrityError:
            print("与已有配置冲突，未写入任何内容 (conflict; nothing written)", file=sys.stderr)
            return 1
    if dry_run:
        print("试导入（未写入）(dry run, nothing written):")
    else:
        print(f"已导入 (imported) {code}:")
    for line in summary.lines():
        print(f"  {line}")
    if summary.changes == 0:
        print("  没有变化 (no changes)")
    if summary.passwords:
        print("新账号的初始密码（只显示这一次）(new accounts' passwords, shown once):")
        for username, password in summary.passwords.items():
            print(f"  {username} {password}")
    return 0


def cmd_hall_import(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    try:
        with open(args.file, "rb") as source:
            data = source.read()
    except OSError as exc:
        print(f"无法读取文件 (cannot read file): {exc}", file=sys.stderr)
        return 2
    upgrade(get_settings().database_url)
    return asyncio.run(_hall_import(args.code, data, args.dry_run))


async def _hall_export(code: str) -> bytes | None:
    from ..admin.setup import export_setup
    from ..admin.workbook_write import write_workbook

    db = create_database(get_settings().database_url)
    try:
        async with db.read() as session:
            hall = await _find_hall(session, code)
            if hall is None:
                return None
            return write_workbook(await export_setup(session, hall))
    finally:
        await db.dispose()


def cmd_hall_export(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    upgrade(get_settings().database_url)
    data = asyncio.run(_hall_export(args.code))
    if data is None:
        print(f"没有这个大厅 (unknown hall): {args.code}", file=sys.stderr)
        return 2
    if not _write_file(args.file, data):
        return 2
    print(f"已导出 (exported) {args.code}: {args.file}")
    return 0


async def _device_add(code: str, kind: str, window: int | None, name: str) -> int:
    from ..admin.devices import add_device
    from ..api.errors import ApiError

    async with _hall_tx(code) as found:
        if found is None:
            return 2
        hall, tx = found
        labels = {"kiosk": "取号机", "display": "显示屏", "evaluator": "评价器"}
        default = labels.get(kind, kind) + (f"（{window}号窗口）" if window else "")
        try:
            device, key = await add_device(tx, hall, kind, name or default, window)
        except ApiError as exc:
            print(exc.message, file=sys.stderr)
            return 2
        await tx.commit()
    print(f"已添加设备 (device added): {device.id} {device.name} ({kind})")
    print(f"设备密钥（只显示这一次）(device key, shown once): {key}")
    return 0


def cmd_device_add(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    upgrade(get_settings().database_url)
    return asyncio.run(_device_add(args.code, args.kind, args.window, args.name or ""))
