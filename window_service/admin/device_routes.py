"""HTTP endpoints of a hall's devices: list, register, rotate a key, deactivate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.scope import HALL
from ..halls.lookup import own_hall
from ..halls.models import Device
from ..transaction import Tx
from . import devices, queries
from .routing import ADMIN_ONLY, CONFIG, commit
from .schemas import (
    DeviceAction,
    DeviceCreate,
    DeviceKeyOut,
    DeviceOut,
)
from .service import found
from .views import device_out

router = ApiRouter("admin")


# -- devices ------------------------------------------------------------------------------------
@router.route(
    "GET", "/halls/{hall}/devices", roles=ADMIN_ONLY, response=list[DeviceOut], scope=HALL
)
async def list_devices(api: ApiRequest) -> list[DeviceOut]:
    """设备列表 (kiosks, displays, evaluator pads; keys are never shown again)."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        return [await device_out(session, d) for d in await queries.devices(session, hall.id)]


@router.route(
    "POST", "/halls/{hall}/devices", roles=ADMIN_ONLY, response=DeviceKeyOut, status=201, scope=HALL
)
async def create_device(api: ApiRequest[DeviceCreate]) -> DeviceOut:
    """登记设备; the response carries its key, shown this once."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        body = api.body
        device, key = await devices.add_device(tx, hall, body.kind, body.name, body.window)
        await commit(tx)
        api.state.auth.forget_devices()
        return await device_out(session, device, key)


async def _device(session: AsyncSession, api: ApiRequest[Any, Any]) -> Device:
    device = await session.get(Device, api.path["id"])
    device = api.own(found(device, "device", "没有这个设备 (unknown device)"))
    return device


async def _device_step(
    api: ApiRequest[DeviceAction], do: Callable[[Tx, Device, str], Awaitable[str | None]]
) -> DeviceOut:
    """``do`` the step on the device with the body's reason; a new key is shown this once."""
    async with api.state.db.write() as session:
        device = await _device(session, api)
        tx = api.tx(session, device.hall_id)
        key = await do(tx, device, api.body.reason)
        await commit(tx)
        api.state.auth.forget_devices()
        return await device_out(session, device, key)


@router.route(
    "POST",
    "/devices/{id:int}/rotate-key",
    roles=ADMIN_ONLY,
    response=DeviceKeyOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def rotate_device_key(api: ApiRequest[DeviceAction]) -> DeviceOut:
    """更换设备密钥 (the old key stops working; the new one is shown this once)."""
    return await _device_step(api, devices.rotate_key)


@router.route(
    "POST",
    "/devices/{id:int}/deactivate",
    roles=ADMIN_ONLY,
    response=DeviceOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def deactivate_device(api: ApiRequest[DeviceAction]) -> DeviceOut:
    """停用设备 (its key stops working; the record stays)."""
    return await _device_step(api, devices.deactivate_device)


__all__ = ["router"]
