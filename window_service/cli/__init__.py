"""The ``window-service`` command: serve, migrate, demo, user add, hall add|template|import|export,
device add, audit verify (the hall set-up commands are in cli/hall.py, region … in
cli/region.py, backup and restore in cli/backup.py)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from sqlalchemy import select

from ..config import get_settings
from ..db import create_database, utcnow
from .backup import add_parsers as backup_parsers
from .hall import (
    cmd_device_add,
    cmd_hall_add,
    cmd_hall_export,
    cmd_hall_import,
    cmd_hall_template,
)
from .region import add_parsers as region_parsers


def _urls(host: str, port: int, kiosk_key: str = "") -> str:
    """The demo hall's pages; the kiosk and pad addresses carry the real device keys when the
    demo hall was seeded in this var/ (``demo`` keeps its credentials there), else they are
    left out rather than shown with a placeholder."""
    from ..seed import pad_key

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    lines = []
    if kiosk_key:
        lines.append(f"  取号机 kiosk           {base}/kiosk/demo?key={kiosk_key}  (once)")
    lines += [
        f"  大厅综合屏 hall display {base}/display/demo",
        f"  窗口屏 window display   {base}/display/demo/window/1",
    ]
    if kiosk_key:
        lines.append(
            f"  评价器 evaluator pad    {base}/pad/demo/1?key={pad_key(kiosk_key, 1)}  (once)"
        )
    lines += [
        f"  窗口叫号终端 terminal    {base}/terminal   (w1 … w8)",
        f"  效能办 office          {base}/office     (office, head, admin)",
        f"  大厅配置 hall settings   {base}/office/admin   (admin)",
        f"  办件查询 case lookup     {base}/lookup",
        f"  电子公示栏 notice board  {base}/board/demo",
        f"  API                    {base}/api/v1/openapi.json",
    ]
    if not kiosk_key:
        lines.append("  (取号机、评价器地址含设备密钥，运行 window-service demo 后显示)")
    return "\n".join(lines)


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    upgrade(get_settings().database_url)
    print("数据库已迁移到最新版本 (database migrated to head)")
    return 0


async def _demo(password: str | None, device_key: str | None) -> int:
    from ..auth.passwords import password_problem
    from ..seed import DEMO_CODE, DEMO_NAME, seed_demo, usernames

    if password is not None:
        problem = password_problem(password, [DEMO_CODE, DEMO_NAME, *usernames()])
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
    settings = get_settings()
    db = create_database(settings.database_url)
    try:
        creds = await seed_demo(
            db,
            timezone=settings.timezone,
            var_dir=settings.var_dir,
            password=password,
            device_key=device_key,
        )
    finally:
        await db.dispose()
    print("示范大厅 demo hall:", "已创建 (created)" if creds.created else "已存在 (exists)")
    print("演示账号 demo accounts (username / password):")
    for username, pw in creds.passwords.items():
        print(f"  {username:<8} {pw}")
    print(f"取号机密钥 kiosk device key: {creds.kiosk_key}")
    print("评价器密钥 evaluator pad keys (/pad/demo/N?key=…):")
    for number, key in creds.pad_keys.items():
        print(f"  {number}号窗口 {key}")
    return 0


async def _county(password: str | None, device_key: str | None) -> int:
    from ..admin.county import COUNTY_CODE, seed_county

    settings = get_settings()
    db = create_database(settings.database_url)
    try:
        creds = await seed_county(
            db, timezone=settings.timezone, password=password, device_key=device_key
        )
    finally:
        await db.dispose()
    if not creds.created:
        print(f"县级示范大厅 county demo hall ({COUNTY_CODE}): 已存在 (exists)")
        return 0
    print(f"县级示范大厅 county demo hall ({COUNTY_CODE}): 已创建 (created)")
    print("账号 accounts (username / password):")
    for username, pw in creds.passwords.items():
        print(f"  {username:<24} {pw}")
    print("设备密钥 device keys:")
    for name, key in creds.device_keys.items():
        print(f"  {name:<16} {key}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    upgrade(get_settings().database_url)
    if args.size == "county":
        return asyncio.run(_county(args.password, args.device_key))
    return asyncio.run(_demo(args.password, args.device_key))


async def _user_add(
    name: str, role: str, window_number: int | None, hall_code: str, password: str
) -> int:
    from ..api.errors import ApiError
    from ..auth.service import add_user
    from ..halls.models import Hall, Window
    from ..transaction import Actor, Tx

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            hall = (
                await session.execute(select(Hall).where(Hall.code == hall_code))  # type: ignore[arg-type]
            ).scalar_one_or_none()
            if hall is None or hall.id is None:
                print(f"没有这个大厅 (unknown hall): {hall_code}", file=sys.stderr)
                return 2
            window = None
            if window_number is not None:
                window = (
                    await session.execute(
                        select(Window)
                        .where(Window.hall_id == hall.id)  # type: ignore[arg-type]
                        .where(Window.number == window_number)  # type: ignore[arg-type]
                    )
                ).scalar_one_or_none()
                if window is None:
                    print(f"没有这个窗口 (unknown window): {window_number}", file=sys.stderr)
                    return 2
            tx = Tx(session, hall.id, utcnow(), Actor("cli"))
            try:
                user = await add_user(
                    tx, hall_id=hall.id, username=name, role=role, password=password, window=window
                )
            except ApiError as exc:
                print(exc.message, file=sys.stderr)
                return 2
            await tx.commit()
            print(f"已添加用户 (user added): {user.username} ({user.role})")
            return 0
    finally:
        await db.dispose()


def cmd_user_add(args: argparse.Namespace) -> int:
    from ..migrate import upgrade

    if sys.stdin.isatty():
        password = getpass.getpass("密码 password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    upgrade(get_settings().database_url)
    if args.role == "region_inspector" or args.region:
        if args.role != "region_inspector" or not args.region:
            print("--region 与 --role region_inspector 须同时使用 (go together)", file=sys.stderr)
            return 2
        from .region import region_user_add

        return region_user_add(args.name, args.region, password)
    return asyncio.run(_user_add(args.name, args.role, args.window, args.hall, password))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import models  # noqa: F401  (every table mapped: audit verify checks them all)
    from ..audit.verify import verify_command

    settings = get_settings()
    files = [Path(f) for f in args.anchors or []]
    if not files and settings.resolved_anchor_file().exists():
        files = [settings.resolved_anchor_file()]
    return asyncio.run(
        verify_command(
            settings.database_url,
            key=settings.resolved_audit_key(create=False),
            anchor_files=files,
            var_dir=settings.var_dir,
            since_anchor=args.since_anchor,
            jobs=args.jobs,
            prepare=load_every_table,
        )
    )


def load_every_table() -> None:
    """Map every table (``window_service.models``): what a second verify process runs first."""
    from .. import models  # noqa: F401


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    settings.resolved_secret_key()  # generate once, before workers race to do it
    settings.resolved_audit_key()
    if settings.is_sqlite and args.workers > 1:
        print(
            "SQLite 只支持单进程；多进程请使用 PostgreSQL (several workers need PostgreSQL)",
            file=sys.stderr,
        )
        return 2
    from ..metrics import prepare_multiprocess

    prepare_multiprocess(settings.var_dir, args.workers)
    if (
        args.host not in ("0.0.0.0", "::", "")
        and args.host.lower() not in settings.allowed_host_names
    ):
        # The address served on is this server's own name: links may start with it.
        os.environ["WINDOW_SERVICE_ALLOWED_HOSTS"] = f"{settings.allowed_hosts},{args.host}"
        get_settings.cache_clear()
    trusted = settings.trusted_proxies.strip()
    print("window_service 正在启动 (starting):")
    from ..seed import load_saved

    kiosk_key = str(load_saved(settings.var_dir).get("kiosk_key") or "")
    print(_urls(args.host, args.port, kiosk_key), flush=True)
    uvicorn.run(
        "window_service.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        # X-Forwarded-For/-Proto are believed from the configured proxies only.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # Display messages are a few hundred bytes: compressing them per socket costs a zlib
        # context per connection (73 KiB instead of 35 KiB per idle socket) and CPU at
        # every fan-out (see bench/display.py).
        ws_per_message_deflate=False,
        # A socket whose client stopped reading must not hold up a restart for ever.
        timeout_graceful_shutdown=10,
        # uvicorn kills a worker that does not answer its supervisor's ping in time (5 s by
        # default), dropping every connection it holds; on a small, busy machine a worker in
        # the middle of a burst can be that slow without being hung.
        timeout_worker_healthcheck=30,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="window-service", description="政务服务大厅叫号与效能监督系统 (window_service)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database schema to head")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="seed the demo hall (idempotent) and print its credentials")
    demo.add_argument("--password")
    demo.add_argument("--device-key")
    demo.add_argument(
        "--size",
        choices=["small", "county"],
        default="small",
        help="small: the demo hall (default); county: a second, county-size hall",
    )
    demo.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add an account (password read from stdin)")
    add.add_argument("name")
    add.add_argument(
        "--role",
        required=True,
        choices=["admin", "inspector", "head", "staff", "supervisor", "region_inspector"],
    )
    add.add_argument("--window", type=int)
    add.add_argument("--hall", default="demo")
    add.add_argument("--region", help="region code (region_inspector only: 区域效能办)")
    add.set_defaults(func=cmd_user_add)

    hall = sub.add_parser("hall", help="set up halls (new hall, workbook import/export)")
    hall_sub = hall.add_subparsers(dest="hall_command", required=True)
    hall_add = hall_sub.add_parser("add", help="create an empty hall")
    hall_add.add_argument("code")
    hall_add.add_argument("--name", required=True)
    hall_add.add_argument("--timezone", help="IANA zone (default WINDOW_SERVICE_TIMEZONE)")
    hall_add.add_argument("--region", help="region code (行政区划)")
    hall_add.set_defaults(func=cmd_hall_add)
    template = hall_sub.add_parser("template", help="write the import workbook's template")
    template.add_argument("file")
    template.set_defaults(func=cmd_hall_template)
    hall_import = hall_sub.add_parser("import", help="import a hall's configuration workbook")
    hall_import.add_argument("code")
    hall_import.add_argument("file")
    hall_import.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    hall_import.set_defaults(func=cmd_hall_import)
    export = hall_sub.add_parser("export", help="write a hall's configuration as a workbook")
    export.add_argument("code")
    export.add_argument("file")
    export.set_defaults(func=cmd_hall_export)

    device = sub.add_parser("device", help="manage devices")
    device_sub = device.add_subparsers(dest="device_command", required=True)
    device_add = device_sub.add_parser("add", help="add a device and print its key once")
    device_add.add_argument("code", help="hall code")
    device_add.add_argument("--kind", required=True, choices=["kiosk", "display", "evaluator"])
    device_add.add_argument("--window", type=int)
    device_add.add_argument("--name")
    device_add.set_defaults(func=cmd_device_add)

    region_parsers(sub)
    backup_parsers(sub)

    audit = sub.add_parser("audit", help="the audit record")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="verify the keyed hash chain, anchors, current rows and evidence files "
        "(key from WINDOW_SERVICE_AUDIT_KEY or WINDOW_SERVICE_AUDIT_KEY_FILE)",
    )
    verify.add_argument(
        "--anchors",
        action="append",
        metavar="FILE",
        help="an anchor file (a copy of var/audit_anchors.jsonl) to check; repeatable; "
        "default: this host's anchor file",
    )
    verify.add_argument(
        "--since-anchor",
        action="store_true",
        help="check only what was written after each hall's newest anchor (and the rows it "
        "names); quick, between full verifies",
    )
    verify.add_argument(
        "--jobs",
        type=int,
        choices=[1, 2],
        default=2,
        help="2 (default): the full verify checks the current rows in a second process "
        "while this one checks the chains; 1: one process, one check after the other",
    )
    verify.set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
