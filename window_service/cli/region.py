"""The ``window-service`` region commands: region add|list|assign, and the region office's
accounts (``user add NAME --role region_inspector --region CODE``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import select

from ..config import get_settings
from ..db import create_database, utcnow


async def _region_add(code: str, name: str, parent: str, level: str) -> int:
    from ..api.errors import ApiError
    from ..regions.service import add_region

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            try:
                region = await add_region(session, code=code, name=name, parent=parent, level=level)
            except ApiError as exc:
                print(exc.message, file=sys.stderr)
                return 2
            await session.commit()
            print(f"已创建区划 (region created): {region.code} {region.name} ({region.level})")
            return 0
    finally:
        await db.dispose()


async def _region_list() -> int:
    from ..halls.models import Hall
    from ..regions.queries import all_regions

    db = create_database(get_settings().database_url)
    try:
        async with db.read() as session:
            regions = await all_regions(session)
            halls = list((await session.execute(select(Hall).order_by(Hall.code))).scalars())  # type: ignore[arg-type]
        by_id = {r.id: r for r in regions}

        def depth(region: object) -> int:
            n, seen = 0, set()
            parent = getattr(region, "parent_id", None)
            while parent is not None and parent in by_id and parent not in seen:
                seen.add(parent)
                n += 1
                parent = by_id[parent].parent_id
            return n

        for region in sorted(regions, key=lambda r: r.code):
            members = [h.code for h in halls if h.region == region.code]
            print(
                f"{'  ' * depth(region)}{region.code} {region.name} ({region.level})"
                + (f": {', '.join(members)}" if members else "")
            )
        return 0
    finally:
        await db.dispose()


async def _region_assign(code: str, halls: list[str]) -> int:
    from ..halls.models import Hall
    from ..regions.queries import region_by_code
    from ..regions.service import assign_hall
    from ..transaction import Actor, Tx

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            region = await region_by_code(session, code)
            if region is None:
                print(f"没有这个区划 (unknown region): {code}", file=sys.stderr)
                return 2
            found = {
                h.code: h
                for h in (
                    await session.execute(select(Hall).where(Hall.code.in_(halls)))  # type: ignore[attr-defined]
                ).scalars()
            }
            missing = [c for c in halls if c not in found]
            if missing:
                print(f"没有这个大厅 (unknown hall): {', '.join(missing)}", file=sys.stderr)
                return 2
            for hall_code in halls:
                hall = found[hall_code]
                assert hall.id is not None
                tx = Tx(session, hall.id, utcnow(), Actor("cli"))
                if await assign_hall(tx, hall, region):
                    await tx.commit()
                print(f"{hall.code} → {region.code} {region.name}")
            await session.commit()
            return 0
    finally:
        await db.dispose()


async def _region_user_add(name: str, region_code: str, password: str) -> int:
    from ..api.errors import ApiError
    from ..regions.queries import region_by_code
    from ..regions.service import add_region_user
    from ..transaction import Actor

    db = create_database(get_settings().database_url)
    try:
        async with db.write() as session:
            region = await region_by_code(session, region_code)
            if region is None:
                print(f"没有这个区划 (unknown region): {region_code}", file=sys.stderr)
                return 2
            try:
                user = await add_region_user(
                    session,
                    region=region,
                    username=name,
                    password=password,
                    now=utcnow(),
                    actor=Actor("cli"),
                )
            except ApiError as exc:
                print(exc.message, file=sys.stderr)
                return 2
            await session.commit()
            print(f"已添加用户 (user added): {user.username} ({user.role}, {region.code})")
            return 0
    finally:
        await db.dispose()


def region_user_add(name: str, region: str, password: str) -> int:
    """``user add NAME --role region_inspector --region CODE`` (migrated by the caller)."""
    return asyncio.run(_region_user_add(name, region, password))


def _migrated() -> None:
    from ..migrate import upgrade

    upgrade(get_settings().database_url)


def cmd_region_add(args: argparse.Namespace) -> int:
    _migrated()
    return asyncio.run(_region_add(args.code, args.name, args.parent or "", args.level or ""))


def cmd_region_list(args: argparse.Namespace) -> int:
    _migrated()
    return asyncio.run(_region_list())


def cmd_region_assign(args: argparse.Namespace) -> int:
    _migrated()
    return asyncio.run(_region_assign(args.code, args.halls))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    region = sub.add_parser("region", help="regions (区划: 县 → 市 → 省) that group halls")
    region_sub = region.add_subparsers(dest="region_command", required=True)
    add = region_sub.add_parser("add", help="create a region")
    add.add_argument("code", help="region code, e.g. 行政区划代码 610100")
    add.add_argument("--name", required=True)
    add.add_argument("--parent", help="the code of the region above (省 for a 市, 市 for a 县)")
    add.add_argument(
        "--level",
        choices=["province", "city", "county"],
        help="default: province at the top, city under a province, county under a city",
    )
    add.set_defaults(func=cmd_region_add)
    listing = region_sub.add_parser("list", help="the regions as a tree, with their halls")
    listing.set_defaults(func=cmd_region_list)
    assign = region_sub.add_parser("assign", help="put halls in a region (audited per hall)")
    assign.add_argument("code", help="region code")
    assign.add_argument("halls", nargs="+", metavar="HALL", help="hall codes")
    assign.set_defaults(func=cmd_region_assign)
