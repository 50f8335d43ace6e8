"""Resolving who is asking: a bearer token, a device key, a page session, or nobody."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from starlette.requests import HTTPConnection

from ..api.errors import ApiError
from ..halls.models import Device
from ..transaction import Actor
from .models import User, UserDepartment
from .roles import DEVICE_KINDS, HEAD, STAFF
from .throttle import LoginThrottle
from .tokens import TokenSigner

DEVICE_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Principal:
    """The caller. ``role`` is the user's role or the device's kind; None for anonymous."""

    kind: str  # "user" · "device" · "anonymous"
    role: str | None = None
    hall_id: int | None = None
    user_id: int | None = None
    username: str = ""
    window_id: int | None = None
    department_ids: frozenset[int] = field(default_factory=frozenset)
    device_id: int | None = None
    via_session: bool = False
    #: The region a region inspector (区域效能办) oversees; None for everyone else.
    region_id: int | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_device(self) -> bool:
        return self.kind == "device"

    @property
    def is_staff_side(self) -> bool:
        """Anyone working for the hall (a person or a staff device), as opposed to a citizen."""
        return self.kind != "anonymous"

    @property
    def sees_own_departments_only(self) -> bool:
        """A department head (部门负责人): lists and rows limited to their departments."""
        return self.role == HEAD

    @property
    def bound_to_window(self) -> bool:
        """Window staff and devices act for their own window only (一人一窗)."""
        return self.role == STAFF or self.is_device

    @property
    def actor(self) -> Actor:
        if self.kind == "user":
            return Actor(f"user:{self.username}", user_id=self.user_id)
        if self.kind == "device":
            return Actor(f"device:{self.device_id}", device_id=self.device_id)
        return Actor("citizen")


ANONYMOUS = Principal("anonymous")


def hash_device_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Authenticator:
    """Turns request credentials into a Principal. Device keys are cached briefly."""

    def __init__(self, db_read: object, tokens: TokenSigner) -> None:
        self._read = db_read
        self._tokens = tokens
        self._devices: dict[str, tuple[float, Principal | None]] = {}
        #: Failed sign-ins per account and address (see auth/throttle.py).
        self.login_throttle = LoginThrottle()

    async def authenticate(self, conn: HTTPConnection) -> Principal:
        header = conn.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError(401, "invalid_credentials", "身份凭证格式错误 (use: Bearer <token>)")
            claims = self._tokens.read(token.strip())
            if claims is None:
                raise ApiError(
                    401, "invalid_token", "登录凭证无效或已过期 (token invalid or expired)"
                )
            principal = await self.user_principal(claims.user_id, claims.version)
            if principal is None:
                raise ApiError(
                    401, "invalid_token", "登录凭证无效或已过期 (token invalid or expired)"
                )
            return principal
        key = conn.headers.get("x-device-key")
        if key is not None:
            principal = await self.device_principal(key)
            if principal is None:
                raise ApiError(401, "invalid_device_key", "设备密钥无效 (unknown device key)")
            return principal
        return await self.session_user(conn) or ANONYMOUS

    async def session_user(self, conn: HTTPConnection) -> Principal | None:
        """The user signed in by the request's page session cookie, whatever other credential
        it carries (a browser that holds a staff session and sends a device key is still a
        staff member's browser)."""
        session = conn.scope.get("session")
        if session:
            user_id, version = session.get("user_id"), session.get("token_version")
            if isinstance(user_id, int) and isinstance(version, int):
                return await self.user_principal(user_id, version, via_session=True)
        return None

    async def user_principal(
        self, user_id: int, version: int, *, via_session: bool = False
    ) -> Principal | None:
        async with self._read() as session:  # type: ignore[operator]
            user = await session.get(User, user_id)
            if user is None or not user.active or user.token_version != version:
                return None
            departments = (
                await session.execute(
                    select(UserDepartment.department_id).where(UserDepartment.user_id == user_id)  # type: ignore[arg-type]
                )
            ).scalars()
            return Principal(
                "user",
                role=user.role,
                hall_id=user.hall_id,
                user_id=user.id,
                username=user.username,
                window_id=user.window_id if user.role == STAFF else None,
                department_ids=frozenset(departments),
                via_session=via_session,
                region_id=user.region_id,
            )

    async def device_principal(self, key: str) -> Principal | None:
        if not key or len(key) > 256:
            return None
        digest = hash_device_key(key)
        now = time.monotonic()
        cached = self._devices.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._read() as session:  # type: ignore[operator]
            device = (
                await session.execute(select(Device).where(Device.key_hash == digest))  # type: ignore[arg-type]
            ).scalar_one_or_none()
        principal = None
        if device is not None and device.active and device.kind in DEVICE_KINDS:
            principal = Principal(
                "device",
                role=device.kind,
                hall_id=device.hall_id,
                window_id=device.window_id,
                device_id=device.id,
            )
        if len(self._devices) > 10_000:
            self._devices.clear()
        self._devices[digest] = (now + DEVICE_CACHE_SECONDS, principal)
        return principal

    def forget_devices(self) -> None:
        self._devices.clear()
