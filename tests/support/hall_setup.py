"""Setting a hall up in tests: a small workbook's rows, a database, a new hall, an import."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from window_service.admin.setup import create_hall, export_setup, import_workbook
from window_service.admin.setup_apply import Summary
from window_service.admin.setup_rows import (
    HEADERS,
    DepartmentRow,
    HallSetup,
    PersonRow,
    ServiceRow,
    WindowRow,
)
from window_service.admin.workbook_write import write_workbook
from window_service.auth.models import User
from window_service.db import Database, create_database, utcnow
from window_service.halls.models import Hall
from window_service.ledger import AuditRecord
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


async def export(db: Database, code: str) -> bytes:
    async with db.read() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == code))).scalar_one()  # type: ignore[arg-type]
        return write_workbook(await export_setup(session, hall))


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.read() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def audit_count(db: Database) -> int:
    return await count(db, AuditRecord)


async def last_audit_id(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.max(AuditRecord.id)))).scalar_one() or 0)


def bad_workbook() -> bytes:
    """One workbook with every class of error the import must report."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    departments = book.create_sheet("部门")
    departments.append(["编码", "名称"])
    departments.append(["gongan", "县公安局"])
    departments.append(["gongan", "重复的部门"])  # row 3: duplicate code
    departments.append(["renshe", None])  # row 4: empty name
    services = book.create_sheet("事项")
    services.append(list(HEADERS["事项"]))
    services.append(["hukou", "户籍", "gongan", "A", 20, 5, 20, "免费", "身份证", ""])
    services.append(["hukou", "户籍2", "gongan", "B", 20, 5, 20, "", "", ""])  # 3: dup code
    services.append(
        ["shebao", "社保", "nowhere", "A", 20, 3, 20, "", "", ""]
    )  # 4: dept, dup prefix
    services.append(["qiye", "企业", "gongan", "a1", "十", -1, 20, "", "", ""])  # 5: prefix, days
    services.append(["shuiwu", "税务", "gongan", "E", 3, 5, 20, "", "", ""])  # 6: promised > legal
    services.append(["jiuye", "就业", "gongan", "F", 10, 3, 20, "", "", ""])  # 7: fine
    services.append(
        ["minzheng", "民政", "gongan", "X", 10, 3, 20, "", "", ""]
    )  # 8: existing prefix
    windows = book.create_sheet("窗口")
    windows.append(["窗口号", "名称", "区域", "事项编码"])
    windows.append([1, "", "一楼", "hukou、nosuch"])  # 2: unknown service
    windows.append([1, "", "一楼", "hukou"])  # 3: duplicate number
    windows.append(["x", "", "一楼", "hukou"])  # 4: not a number
    people = book.create_sheet("人员")
    people.append(list(HEADERS["人员"]))
    people.append(["p1", "甲", "", "boss", "", "", ""])  # 2: bad role
    people.append(["p2", "乙", "", "staff", "", "", ""])  # 3: staff without window
    people.append(["p3", "丙", "", "head", "", "", ""])  # 4: head without departments
    people.append(["p4", "丁", "", "staff", 9, "", ""])  # 5: unknown window
    people.append(["p4", "戊", "", "staff", 1, "", ""])  # 6: duplicate username
    people.append(["p5", "己", "", "head", "", "gongan、nosuch", ""])  # 7: unknown department
    people.append(["w1", "庚", "", "staff", 1, "", ""])  # 8: username of another hall
    people.append(["p6", None, "", "staff", 1, "", "short"])  # 9: empty name, short password
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPECTED_ERRORS = [
    ("部门", 3, "编码"),
    ("部门", 4, "名称"),
    ("事项", 3, "编码"),
    ("事项", 4, "部门编码"),
    ("事项", 4, "号段"),
    ("事项", 5, "号段"),
    ("事项", 5, "法定时限"),
    ("事项", 5, "承诺时限"),
    ("事项", 6, "承诺时限"),
    ("事项", 8, "号段"),
    ("窗口", 2, "事项编码"),
    ("窗口", 3, "窗口号"),
    ("窗口", 4, "窗口号"),
    ("人员", 2, "角色"),
    ("人员", 3, "窗口号"),
    ("人员", 4, "部门编码"),
    ("人员", 5, "窗口号"),
    ("人员", 6, "用户名"),
    ("人员", 7, "部门编码"),
    ("人员", 8, "用户名"),
    ("人员", 9, "姓名"),
    ("人员", 9, "密码"),
]
