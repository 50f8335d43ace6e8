"""Setting a hall up (大厅初始化): a new empty hall, its configuration as a workbook, and
importing one.

The import checks the whole workbook first (``workbook.read_workbook`` for the file alone,
``check_against_hall`` for what the hall already holds) and writes nothing while any problem
remains; ``setup_apply.apply_setup`` then applies it row by row (never deleting: what is no
longer listed is switched off) and refuses the whole import when a row is still refused.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError
from ..auth.models import User
from ..halls.lookup import departments_by_id
from ..halls.models import Hall, Service, Window
from ..transaction import Tx
from . import service as admin
from . import staff
from .setup_apply import SetupRefused, Summary, apply_setup
from .setup_rows import (
    PEOPLE,
    SERVICES,
    DepartmentRow,
    HallSetup,
    PersonRow,
    Problem,
    ServiceRow,
    WindowRow,
    split_materials,
)
from .workbook import read_workbook

_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


# -- a new hall --------------------------------------------------------------------------
def check_hall_values(code: str, name: str, timezone: str, region: str) -> str | None:
    """Why a new hall's values are unacceptable (中文 message), or None."""
    if not code or len(code) > 32 or not set(code) <= _CODE_CHARS:
        return f"大厅编码「{code}」只能由字母、数字、-、_ 组成，最长 32 位"
    if not name.strip() or len(name) > 200:
        return "大厅名称不能为空，最长 200 个字"
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"时区「{timezone}」无效（例如 Asia/Shanghai）"
    if region and (len(region) > 32 or not set(region) <= _CODE_CHARS):
        return f"区划编码「{region}」只能由字母、数字、-、_ 组成，最长 32 位"
    return None


async def create_hall(
    tx: Tx, *, code: str, name: str, timezone: str = "", region: str = ""
) -> Hall:
    """新建服务大厅: an empty hall (no departments, services, windows or accounts).

    ``tx`` may be opened for hall 0; it is pointed at the new hall once it has its id.
    Raises ``ApiError`` (409) when the code is taken, (422) for bad values.
    """
    problem = check_hall_values(code, name, timezone, region)
    if problem is not None:
        raise ApiError(422, "invalid_hall", problem)
    exists = (
        await tx.session.execute(select(Hall.id).where(Hall.code == code))  # type: ignore[call-overload]
    ).first()
    if exists is not None:
        raise ApiError(409, "hall_code_taken", f"大厅编码「{code}」已存在 (hall code taken)")
    hall = Hall(code=code, name=name.strip(), timezone=timezone, region=region)
    tx.session.add(hall)
    await tx.session.flush()
    assert hall.id is not None
    tx.hall_id = hall.id
    tx.audit("hall.create", hall)
    return hall


# -- export --------------------------------------------------------------------------------
async def export_setup(session: AsyncSession, hall: Hall) -> HallSetup:
    """The hall's configuration as workbook rows: departments, the services switched on, the
    windows not closed and the active accounts (never a password)."""
    assert hall.id is not None
    setup = HallSetup()
    departments = await departments_by_id(session, hall.id)
    for department in sorted(departments.values(), key=lambda d: d.code):
        setup.departments.append(DepartmentRow(0, department.code, department.name))
    services = (
        await session.execute(
            select(Service)
            .where(Service.hall_id == hall.id, Service.active.is_(True))  # type: ignore[arg-type, attr-defined]
            .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
        )
    ).scalars()
    for s in services:
        setup.services.append(
            ServiceRow(
                0,
                s.code,
                s.name,
                departments[s.department_id].code,
                s.prefix,
                s.legal_days,
                s.promised_days,
                s.wait_target_minutes,
                s.fees,
                split_materials(s.materials),
                s.legal_basis,
            )
        )
    windows = list(
        (
            await session.execute(
                select(Window)
                .where(Window.hall_id == hall.id, Window.status != "closed")  # type: ignore[arg-type]
                .order_by(Window.number)  # type: ignore[arg-type]
            )
        ).scalars()
    )
    numbers = {w.id: w.number for w in windows}
    for w in windows:
        assert w.id is not None
        codes = await admin.window_codes(session, w.id)
        setup.windows.append(WindowRow(0, w.number, w.name, w.zone, codes))
    users = (
        await session.execute(
            select(User)
            .where(User.hall_id == hall.id, User.active.is_(True))  # type: ignore[arg-type, attr-defined]
            .order_by(User.id)  # type: ignore[arg-type]
        )
    ).scalars()
    for u in users:
        assert u.id is not None
        setup.people.append(
            PersonRow(
                0,
                u.username,
                u.display_name,
                u.staff_no,
                u.role,
                numbers.get(u.window_id) if u.window_id is not None else None,
                await staff.user_department_codes(session, u.id),
                "",
            )
        )
    return setup


# -- import ----------------------------------------------------------------------------------
async def check_against_hall(session: AsyncSession, hall: Hall, setup: HallSetup) -> list[Problem]:
    """What the hall already holds that the workbook clashes with."""
    assert hall.id is not None
    problems: list[Problem] = []
    listed = {s.code for s in setup.services}
    existing = list(
        (await session.execute(select(Service).where(Service.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
    )
    kept_prefixes = {s.prefix: s.code for s in existing if s.code not in listed}
    for row in setup.services:
        holder = kept_prefixes.get(row.prefix)
        if holder is not None:
            problems.append(
                Problem(
                    SERVICES,
                    row.row,
                    "号段",
                    f"号段「{row.prefix}」已被本大厅事项「{holder}」使用（该事项不在本表中）",
                )
            )
    usernames = [p.username for p in setup.people]
    if usernames:
        others: dict[str, int] = dict(
            (
                await session.execute(
                    select(User.username, User.hall_id).where(User.username.in_(usernames))  # type: ignore[call-overload, attr-defined]
                )
            ).all()
        )
        for person in setup.people:
            if person.username in others and others[person.username] != hall.id:
                problems.append(
                    Problem(
                        PEOPLE, person.row, "用户名", f"用户名「{person.username}」已被其他大厅使用"
                    )
                )
    return problems


async def check_workbook(session: AsyncSession, hall: Hall, data: bytes) -> HallSetup:
    """The workbook's rows, or ``SetupRefused`` with every problem of the file and the hall."""
    setup, problems = read_workbook(data)
    problems += await check_against_hall(session, hall, setup)
    if problems:
        raise SetupRefused(problems)
    return setup


async def import_workbook(tx: Tx, hall: Hall, data: bytes, *, dry_run: bool = False) -> Summary:
    """Check and apply a workbook; commits unless ``dry_run`` (which rolls everything back)."""
    setup = await check_workbook(tx.session, hall, data)
    try:
        summary = await apply_setup(tx, hall, setup)
    except BaseException:
        await tx.session.rollback()
        raise
    if dry_run:
        await tx.session.rollback()
        summary.passwords.clear()
        return summary
    await tx.commit()
    return summary
