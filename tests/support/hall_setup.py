"""Setting a hall up in tests: a small workbook's rows, a database, a new hall, an import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from window_service.admin.setup import create_hall, import_workbook
from window_service.admin.setup_apply import Summary
from window_service.admin.setup_rows import (
    DepartmentRow,
    HallSetup,
    PersonRow,
    ServiceRow,
    WindowRow,
)
from window_service.auth.models import User
from window_service.db import Database, create_database, utcnow
from window_service.halls.models import Hall
from window_service.transaction import Actor, Tx

PASSWORD = "Maple-Harbor-73"


def small_setup() -> HallSetup:
    """A township-size hall: two departments, three services, four windows in two zones."""
    return HallSetup(
        departments=[
            DepartmentRow(0, "gongan", "县公安局"),
            DepartmentRow(0, "renshe", "县人社局"),
        ],
        services=[
            ServiceRow(
                0,
                "hukou",
                "户籍办理",
                "gongan",
                "A",
                20,
                5,
                20,
                "免费",
                ["居民身份证", "户口簿"],
                "《户口登记条例》",
            ),
            ServiceRow(
                0,
                "shebao",
                "社保参保",
                "renshe",
                "B",
                20,
                3,
                30,
                "免费",
                ["居民身份证"],
                "《社会保险法》",
            ),
            ServiceRow(0, "jiuye", "就业登记", "renshe", "JY", 10, 3, 20, "", [], ""),
        ],
        windows=[
            WindowRow(0, 1, "", "一楼A区", ["hukou"]),
            WindowRow(0, 2, "", "一楼A区", ["hukou", "shebao"]),
            WindowRow(0, 3, "", "二楼", ["shebao", "jiuye"]),
            WindowRow(0, 4, "综合窗口", "二楼", ["jiuye", "shebao", "hukou"]),
        ],
        people=[
            PersonRow(0, "xian-w1", "王伟", "X001", "staff", 1, [], PASSWORD),
            PersonRow(0, "xian-w2", "李娜", "X002", "staff", 2, [], ""),
            PersonRow(0, "xian-w3", "张敏", "X003", "staff", 3, [], ""),
            PersonRow(0, "xian-head", "赵强", "X010", "head", None, ["gongan", "renshe"], ""),
            PersonRow(0, "xian-office", "周静", "X020", "inspector", None, [], ""),
        ],
    )


@asynccontextmanager
async def database(db_url: str) -> AsyncIterator[Database]:
    db = create_database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


async def new_hall(db: Database, code: str = "xian") -> Hall:
    async with db.write() as session:
        tx = Tx(session, 0, utcnow(), Actor("test"))
        hall = await create_hall(tx, code=code, name="某县政务服务中心", region="610101")
        await tx.commit()
        return hall


async def run_import(db: Database, code: str, data: bytes, *, dry_run: bool = False) -> Summary:
    async with db.write() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == code))).scalar_one()  # type: ignore[arg-type]
        assert hall.id is not None
        tx = Tx(session, hall.id, utcnow(), Actor("test"))
        return await import_workbook(tx, hall, data, dry_run=dry_run)


async def reset_password(db_url: str, username: str) -> str:
    from window_service.auth.passwords import hash_password

    async with database(db_url) as db, db.write() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()  # type: ignore[arg-type]
        user.password_hash = hash_password(PASSWORD)
        await session.commit()
    return PASSWORD
