"""Setting a hall up (大厅初始化): a new empty hall, and its configuration from a workbook.

The import checks the whole workbook first (``workbook.read_workbook`` for the file alone,
``check_against_hall`` for what the hall already holds) and writes nothing while any problem
remains. It then creates or updates each row through the administrator's own rules
(``admin.service``: matched by code, window number or username, audited through the ``Tx``),
and never deletes: a service no longer listed is switched off, a window no longer listed is
closed, and an account no longer listed is deactivated (administrators excepted, so an import
never locks the hall's administrators out). A rule that still refuses a row while applying it
(a password policy, say) becomes a problem at that row and the transaction is rolled back.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError
from ..auth.models import User
from ..auth.passwords import verify_password
from ..auth.principal import Principal
from ..auth.roles import ADMIN
from ..chain import snapshot
from ..halls.lookup import departments_by_id
from ..halls.models import Department, Hall, Service, Window
from ..transaction import Tx
from . import service as admin
from . import staff
from .workbook import (
    DEPARTMENTS,
    PEOPLE,
    SERVICES,
    WINDOWS,
    DepartmentRow,
    HallSetup,
    PersonRow,
    Problem,
    ServiceRow,
    WindowRow,
    join_materials,
    read_workbook,
    sort_problems,
    split_materials,
)

_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
#: Why the import switched something off, kept with the audit record.
NOT_LISTED = "导入的配置表中已无此项 (no longer in the imported workbook)"
KINDS = {
    "department": "部门",
    "service": "事项",
    "window": "窗口",
    "user": "人员",
}


class SetupRefused(Exception):
    """A hall could not be created or configured; ``problems`` says why (all of it)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = sort_problems(problems)


@dataclass
class Summary:
    """What an import created, changed and switched off, per kind, and the new passwords."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    switched_off: Counter[str] = field(default_factory=Counter)
    #: username → password generated for a new account (shown once).
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return (
            sum(self.created.values())
            + sum(self.updated.values())
            + sum(self.switched_off.values())
        )

    def lines(self) -> list[str]:
        out = []
        for kind, label in KINDS.items():
            out.append(
                f"{label}：新增 {self.created[kind]}，修改 {self.updated[kind]}，"
                f"停用 {self.switched_off[kind]}"
            )
        return out


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


def _acting(tx: Tx) -> Principal:
    return Principal(kind="user", role=ADMIN, hall_id=tx.hall_id, user_id=tx.actor.user_id)


class _Applying:
    """Applies a checked workbook to a hall in one transaction, row by row."""

    def __init__(self, tx: Tx, hall: Hall, setup: HallSetup) -> None:
        self.tx = tx
        self.hall = hall
        self.setup = setup
        self.summary = Summary()
        self.problems: list[Problem] = []

    def refused(self, sheet: str, row: int, column: str, exc: ApiError) -> None:
        message = exc.message.split(" (")[0]
        self.problems.append(Problem(sheet, row, column, message))

    async def run(self) -> Summary:
        await self.departments()
        await self.services()
        await self.windows()
        await self.people()
        if self.problems:
            raise SetupRefused(self.problems)
        return self.summary

    async def departments(self) -> None:
        assert self.hall.id is not None
        existing = {
            d.code: d
            for d in (
                await self.tx.session.execute(
                    select(Department).where(Department.hall_id == self.hall.id)  # type: ignore[arg-type]
                )
            ).scalars()
        }
        for row in self.setup.departments:
            department = existing.get(row.code)
            try:
                if department is None:
                    await admin.add_department(self.tx, self.hall, row.code, row.name)
                    self.summary.created["department"] += 1
                elif department.name != row.name:
                    await admin.update_department(self.tx, department, {"name": row.name})
                    self.summary.updated["department"] += 1
            except ApiError as exc:
                self.refused(DEPARTMENTS, row.row, "编码", exc)

    def _service_values(self, row: ServiceRow) -> dict[str, object]:
        return {
            "name": row.name,
            "department": row.department,
            "legal_days": row.legal_days,
            "promised_days": row.promised_days,
            "wait_target_minutes": row.wait_target_minutes,
            "fees": row.fees,
            "materials": join_materials(row.materials),
            "legal_basis": row.legal_basis,
            "active": True,
        }

    async def services(self) -> None:
        assert self.hall.id is not None
        session = self.tx.session
        existing = {
            s.code: s
            for s in (
                await session.execute(select(Service).where(Service.hall_id == self.hall.id))  # type: ignore[arg-type]
            ).scalars()
        }
        departments = {d.code: d for d in (await departments_by_id(session, self.hall.id)).values()}
        # A prefix may move from one listed service to another: update the service that gives
        # its prefix up first (two services swapping prefixes need two imports).
        holder = {s.prefix: s.code for s in existing.values()}
        pending = list(self.setup.services)
        while pending:
            waiting = []
            for row in pending:
                current = holder.get(row.prefix)
                if current is not None and current != row.code:
                    waiting.append(row)
                    continue
                service = existing.get(row.code)
                given_up = service.prefix if service is not None else None
                if await self._service(row, service, departments):
                    if given_up is not None and holder.get(given_up) == row.code:
                        del holder[given_up]
                    holder[row.prefix] = row.code
            if len(waiting) == len(pending):
                for row in waiting:
                    self.problems.append(
                        Problem(
                            SERVICES,
                            row.row,
                            "号段",
                            f"号段「{row.prefix}」仍被事项「{holder[row.prefix]}」使用"
                            "（两个事项互换号段时，请先改用其他号段，分两次导入）",
                        )
                    )
                break
            pending = waiting
        listed = {row.code for row in self.setup.services}
        for code, service in existing.items():
            if code not in listed and service.active:
                await admin.update_service(self.tx, service, {"active": False})
                self.summary.switched_off["service"] += 1

    async def _service(
        self, row: ServiceRow, service: Service | None, departments: dict[str, Department]
    ) -> bool:
        """Create or update one service; False when a rule refused it (a problem recorded)."""
        values = self._service_values(row)
        try:
            if service is None:
                await admin.add_service(
                    self.tx,
                    self.hall,
                    {
                        **values,
                        "code": row.code,
                        "prefix": row.prefix,
                        "service_target_minutes": 15,
                    },
                )
                self.summary.created["service"] += 1
                return True
            before = snapshot(service)
            changes = {**values, "prefix": row.prefix}
            department = departments.get(row.department)
            if department is not None and department.id == service.department_id:
                changes.pop("department")
            await admin.update_service(self.tx, service, changes)
            if snapshot(service) != before:
                self.summary.updated["service"] += 1
            return True
        except ApiError as exc:
            self.refused(SERVICES, row.row, "编码", exc)
            return False

    async def windows(self) -> None:
        assert self.hall.id is not None
        session = self.tx.session
        existing = {
            w.number: w
            for w in (
                await session.execute(select(Window).where(Window.hall_id == self.hall.id))  # type: ignore[arg-type]
            ).scalars()
        }
        for row in self.setup.windows:
            window = existing.get(row.number)
            try:
                if window is None:
                    await admin.add_window(
                        self.tx, self.hall, row.number, row.name, row.services, zone=row.zone
                    )
                    self.summary.created["window"] += 1
                    continue
                assert window.id is not None
                before = snapshot(window)
                codes_before = await admin.window_codes(session, window.id)
                if window.status == "closed":
                    window.status = "open"
                    session.add(window)
                    self.tx.audit("window.reopen", window, before=before)
                    self.tx.emit("window", window=window.number, status="open")
                await admin.update_window(
                    self.tx, window, {"name": row.name, "zone": row.zone, "services": row.services}
                )
                if snapshot(window) != before or codes_before != row.services:
                    self.summary.updated["window"] += 1
            except ApiError as exc:
                self.refused(WINDOWS, row.row, "事项编码", exc)
        listed = {row.number for row in self.setup.windows}
        for number, window in existing.items():
            if number not in listed and window.status != "closed":
                before = snapshot(window)
                window.status = "closed"
                session.add(window)
                self.tx.audit("window.closed", window, before=before, reason=NOT_LISTED)
                self.tx.emit("window", window=window.number, status="closed")
                self.summary.switched_off["window"] += 1

    async def people(self) -> None:
        assert self.hall.id is not None
        session = self.tx.session
        existing = {
            u.username: u
            for u in (
                await session.execute(select(User).where(User.hall_id == self.hall.id))  # type: ignore[arg-type]
            ).scalars()
        }
        acting = _acting(self.tx)
        for row in self.setup.people:
            user = existing.get(row.username)
            try:
                if user is None:
                    password = row.password or secrets.token_urlsafe(12)
                    await staff.add_staff(
                        self.tx,
                        self.hall,
                        {
                            "username": row.username,
                            "role": row.role,
                            "password": password,
                            "window": row.window,
                            "display_name": row.display_name,
                            "staff_no": row.staff_no,
                            "departments": row.departments,
                        },
                    )
                    if not row.password:
                        self.summary.passwords[row.username] = password
                    self.summary.created["user"] += 1
                    continue
                assert user.id is not None
                before = snapshot(user)
                departments_before = await staff.user_department_codes(session, user.id)
                changes: dict[str, object] = {
                    "display_name": row.display_name,
                    "staff_no": row.staff_no,
                    "role": row.role,
                    "window": row.window,
                    "departments": row.departments,
                }
                if not user.active:
                    changes["active"] = True
                if row.password and not verify_password(row.password, user.password_hash):
                    changes["password"] = row.password
                await staff.update_staff(self.tx, user, changes, acting=acting)
                if snapshot(user) != before or departments_before != sorted(set(row.departments)):
                    self.summary.updated["user"] += 1
            except ApiError as exc:
                self.refused(PEOPLE, row.row, "用户名", exc)
        listed = {row.username for row in self.setup.people}
        for username, user in existing.items():
            if username in listed or not user.active or user.role == ADMIN:
                continue
            if acting.user_id == user.id:
                continue
            await staff.update_staff(
                self.tx, user, {"active": False, "reason": NOT_LISTED}, acting=acting
            )
            self.summary.switched_off["user"] += 1


async def check_workbook(session: AsyncSession, hall: Hall, data: bytes) -> HallSetup:
    """The workbook's rows, or ``SetupRefused`` with every problem of the file and the hall."""
    setup, problems = read_workbook(data)
    problems += await check_against_hall(session, hall, setup)
    if problems:
        raise SetupRefused(problems)
    return setup


async def apply_setup(tx: Tx, hall: Hall, setup: HallSetup) -> Summary:
    """Create or update the hall's configuration from checked rows, in ``tx`` (not committed).

    Raises ``SetupRefused`` when a row is still refused while applying; the caller then rolls
    the transaction back.
    """
    return await _Applying(tx, hall, setup).run()


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
