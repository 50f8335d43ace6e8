"""Applying a checked set-up workbook to a hall (大厅配置导入), row by row, in one transaction.

Each row goes through the administrator's own rules (``admin.service``, ``admin.staff``):
matched by code, window number or username, audited through the ``Tx``. Nothing is deleted: a
service no longer listed is switched off, a window closed, an account deactivated
(administrators excepted). A row still refused here becomes a problem at that row and the
whole import is refused (``SetupRefused``); the caller rolls back.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

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
from .setup_rows import (
    DEPARTMENTS,
    PEOPLE,
    SERVICES,
    WINDOWS,
    HallSetup,
    Problem,
    ServiceRow,
    join_materials,
    sort_problems,
)

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


async def apply_setup(tx: Tx, hall: Hall, setup: HallSetup) -> Summary:
    """Create or update the hall's configuration from checked rows, in ``tx`` (not committed).

    Raises ``SetupRefused`` when a row is still refused while applying; the caller then rolls
    the transaction back.
    """
    return await _Applying(tx, hall, setup).run()
