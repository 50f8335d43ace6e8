"""Signing in and managing accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from ..api.errors import ApiError, conflict, invalid
from ..db import Database
from ..halls.models import Hall, Window
from ..transaction import Tx
from .models import User
from .passwords import check_password, hash_password, verify_password
from .roles import STAFF, USER_ROLES
from .throttle import LoginThrottle

# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


async def check_credentials(session: AsyncSession, username: str, password: str) -> User:
    user = (
        await session.execute(select(User).where(User.username == username))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise ApiError(401, "invalid_credentials", "用户名或密码错误 (wrong username or password)")
    if not verify_password(password, user.password_hash) or not user.active:
        raise ApiError(401, "invalid_credentials", "用户名或密码错误 (wrong username or password)")
    return user


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else ""


async def sign_in(
    db: Database,
    throttle: LoginThrottle,
    username: str,
    password: str,
    address: str,
    now: datetime,
) -> User:
    """Check a sign-in, refusing (429) an account that is being guessed from this address."""
    key = throttle.login_key(username, address)
    wait = await throttle.blocked_for(db, key, now)
    if wait:
        minutes = max(1, round(wait / 60))
        raise ApiError(
            429,
            "too_many_attempts",
            f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins; try later)",
        )
    try:
        async with db.read() as session:
            user = await check_credentials(session, username, password)
    except ApiError:
        await throttle.failed(db, key, now)
        raise
    await throttle.succeeded(db, key, now)
    return user


async def add_user(
    tx: Tx,
    *,
    hall_id: int,
    username: str,
    role: str,
    password: str,
    window: Window | None = None,
    display_name: str = "",
    staff_no: str = "",
) -> User:
    """Create an account (add_user). Staff belong to exactly one window."""
    if role not in USER_ROLES:
        raise invalid("invalid_role", f"角色无效 (role must be one of {', '.join(USER_ROLES)})")
    hall = await tx.session.get(Hall, hall_id)
    check_password(password, password_context(hall, username, display_name, staff_no))
    if role == STAFF and window is None:
        raise invalid("window_required", "窗口工作人员须指定窗口 (staff need --window)")
    exists = (
        await tx.session.execute(select(User.id).where(User.username == username))  # type: ignore[call-overload]
    ).first()
    if exists is not None:
        raise conflict("username_taken", "用户名已存在 (username taken)")
    user = User(
        hall_id=hall_id,
        username=username,
        role=role,
        password_hash=hash_password(password),
        window_id=window.id if (window is not None and role == STAFF) else None,
        display_name=display_name or username,
        staff_no=staff_no,
    )
    tx.session.add(user)
    await tx.session.flush()
    tx.audit("user.add", user)
    return user


def password_context(hall: Hall | None, *words: str) -> list[str]:
    """What a person's password must not be made of: their names and their hall's."""
    return [*words, *((hall.code, hall.name) if hall is not None else ())]


async def set_password(tx: Tx, user: User, password: str) -> None:
    hall = await tx.session.get(Hall, user.hall_id)
    check_password(
        password, password_context(hall, user.username, user.display_name, user.staff_no)
    )
    user.password_hash = hash_password(password)
    user.token_version += 1
    tx.audit("user.password", user)
