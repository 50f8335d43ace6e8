"""The rules of a hall's staff accounts (人员): add and change them, their window and
departments; audited through a Tx."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, invalid
from ..auth import service as auth_service
from ..auth.models import User, UserDepartment
from ..auth.principal import Principal
from ..auth.roles import HEAD, STAFF, USER_ROLES
from ..chain import snapshot
from ..halls.models import Department, Hall, Window
from ..transaction import Tx
from .service import department_of, window_numbered

T = TypeVar("T")


# -- staff ------------------------------------------------------------------------------------------
async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return (
        await session.execute(select(User).where(User.username == username))  # type: ignore[arg-type]
    ).scalar_one_or_none()


async def user_department_codes(session: AsyncSession, user_id: int) -> list[str]:
    rows = await session.execute(
        select(Department.code)  # type: ignore[call-overload]
        .join(UserDepartment, UserDepartment.department_id == Department.id)
        .where(UserDepartment.user_id == user_id)
        .order_by(Department.code)
    )
    return list(rows.scalars())


async def _set_departments(tx: Tx, user: User, codes: list[str]) -> None:
    assert user.id is not None and user.hall_id is not None
    wanted = sorted(set(codes))
    departments = []
    for code in wanted:
        departments.append(await department_of(tx.session, user.hall_id, code))
    before = await user_department_codes(tx.session, user.id)
    if before == wanted:
        return
    for row in (
        await tx.session.execute(
            select(UserDepartment).where(UserDepartment.user_id == user.id)  # type: ignore[arg-type]
        )
    ).scalars():
        await tx.session.delete(row)
    await tx.session.flush()
    for department in departments:
        assert department.id is not None
        tx.session.add(UserDepartment(user_id=user.id, department_id=department.id))
    tx.audit_raw(
        "user.departments",
        "user_department",
        str(user.id),
        before={"username": user.username, "departments": before},
        after={"username": user.username, "departments": wanted},
    )


def _check_role(role: str, window: Window | None, departments: list[str]) -> None:
    if role not in USER_ROLES:
        raise invalid("invalid_role", f"角色无效 (role must be one of {', '.join(USER_ROLES)})")
    if role == STAFF and window is None:
        raise invalid("window_required", "窗口工作人员须指定窗口 (staff need a window)")
    if role != STAFF and window is not None:
        raise invalid("window_for_staff_only", "只有窗口工作人员有窗口 (only staff have a window)")
    if role != HEAD and departments:
        raise invalid(
            "departments_for_heads_only", "只有部门负责人分管部门 (only heads have departments)"
        )


async def add_staff(tx: Tx, hall: Hall, values: dict[str, Any]) -> User:
    assert hall.id is not None
    window = None
    if values.get("window") is not None:
        window = await window_numbered(tx.session, hall.id, values["window"])
    _check_role(values["role"], window, values["departments"])
    user = await auth_service.add_user(
        tx,
        hall_id=hall.id,
        username=values["username"],
        role=values["role"],
        password=values["password"],
        window=window,
        display_name=values["display_name"],
        staff_no=values["staff_no"],
    )
    if values["departments"]:
        await _set_departments(tx, user, values["departments"])
    return user


async def update_staff(tx: Tx, user: User, changes: dict[str, Any], *, acting: Principal) -> None:
    """Change a person's details, window, role or departments; (de)activate; reset password."""
    assert user.id is not None
    reason = changes.pop("reason", "") or ""
    self_change = acting.user_id == user.id
    if self_change and (
        ("role" in changes and changes["role"] != user.role) or changes.get("active") is False
    ):
        raise conflict(
            "cannot_change_self",
            "不能停用自己或更改自己的角色 (cannot demote or deactivate yourself)",
        )
    for key in ("display_name", "staff_no", "role", "active", "password", "departments"):
        if key in changes and changes[key] is None:
            raise invalid("invalid_input", f"{key} 不能为空 ({key} must not be null)")
    before = snapshot(user)
    role = changes.get("role", user.role)
    window: Window | None = None
    if "window" in changes:
        if changes["window"] is not None:
            assert user.hall_id is not None  # a hall's account (api.own checked it)
            window = await window_numbered(tx.session, user.hall_id, changes["window"])
    elif role == STAFF and user.window_id is not None:
        window = await tx.session.get(Window, user.window_id)
    departments = changes.get("departments")
    if departments is None:
        departments = [] if role != HEAD else await user_department_codes(tx.session, user.id)
    _check_role(role, window, departments)
    if role != user.role:
        user.role = role
        user.token_version += 1  # sessions carry the old role's pages: sign in again
    user.window_id = window.id if window is not None else None
    for key in ("display_name", "staff_no"):
        if key in changes:
            setattr(user, key, changes[key])
    if "active" in changes and changes["active"] != user.active:
        user.active = changes["active"]
        user.token_version += 1  # every token and session of the account ends
    if snapshot(user) != before:
        tx.session.add(user)
        action = "user.update"
        if user.active != before["active"]:
            action = "user.activate" if user.active else "user.deactivate"
        tx.audit(action, user, before=before, reason=reason)
    await _set_departments(tx, user, departments)
    if changes.get("password"):
        await auth_service.set_password(tx, user, changes["password"])
