"""The rules of a hall's devices (设备): register, rotate a key, deactivate; audited through a Tx."""

from __future__ import annotations

import secrets
from typing import TypeVar

from ..api.errors import conflict, invalid
from ..auth.principal import hash_device_key
from ..auth.roles import DEVICE_KINDS, EVALUATOR, KIOSK
from ..chain import snapshot
from ..halls.models import Device, Hall
from ..transaction import Tx
from .service import window_numbered

T = TypeVar("T")


# -- devices --------------------------------------------------------------------------------------
def new_key() -> str:
    return secrets.token_urlsafe(24)


async def add_device(
    tx: Tx, hall: Hall, kind: str, name: str, window_number: int | None
) -> tuple[Device, str]:
    assert hall.id is not None
    if kind not in DEVICE_KINDS:
        raise invalid(
            "invalid_kind", f"设备类型无效 (kind must be one of {', '.join(DEVICE_KINDS)})"
        )
    window = None
    if window_number is not None:
        window = await window_numbered(tx.session, hall.id, window_number)
    if kind == EVALUATOR and window is None:
        raise invalid("window_required", "评价器须绑定窗口 (an evaluator needs a window)")
    if kind == KIOSK and window is not None:
        raise invalid("window_not_allowed", "取号机不绑定窗口 (a kiosk has no window)")
    key = new_key()
    device = Device(
        hall_id=hall.id,
        kind=kind,
        name=name,
        key_hash=hash_device_key(key),
        window_id=window.id if window is not None else None,
        created_at=tx.now,
    )
    tx.session.add(device)
    await tx.session.flush()
    tx.audit("device.add", device)
    return device, key


async def rotate_key(tx: Tx, device: Device, reason: str) -> str:
    if not device.active:
        raise conflict("device_inactive", "设备已停用 (device is deactivated)")
    before = snapshot(device)
    key = new_key()
    device.key_hash = hash_device_key(key)
    tx.session.add(device)
    tx.audit("device.rotate_key", device, before=before, reason=reason)
    return key


async def deactivate_device(tx: Tx, device: Device, reason: str) -> None:
    if not device.active:
        raise conflict("device_inactive", "设备已停用 (device is already deactivated)")
    before = snapshot(device)
    device.active = False
    tx.session.add(device)
    tx.audit("device.deactivate", device, before=before, reason=reason)
