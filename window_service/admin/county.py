"""The county-size demo hall (县级政务服务中心示范, code ``county``): 12 departments, 24 queues,
40 windows in 3 zones, staff, heads, an inspector, kiosks, zone displays and evaluator pads.

It is built the way a real county sets its hall up: a workbook (made in memory) goes through
the same import as ``window-service hall import``; only the devices are added afterwards.
For tests, screenshots and benchmarks; the small demo hall stays the default.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select

from ..auth.principal import hash_device_key
from ..auth.roles import DISPLAY, EVALUATOR, HEAD, INSPECTOR, KIOSK, STAFF
from ..db import Database, utcnow
from ..halls.models import Device, Hall, Window
from ..transaction import Actor, Tx
from .county_departments import COUNTY_DEPARTMENTS
from .setup import check_workbook, create_hall
from .setup_apply import apply_setup
from .setup_rows import DepartmentRow, HallSetup, PersonRow, ServiceRow, WindowRow
from .workbook_write import write_workbook

COUNTY_CODE = "county"
COUNTY_NAME = "示范县政务服务中心（县级规模）"
ZONES = ("一楼A区", "一楼B区", "二楼")

WINDOWS_PER_ZONE = (14, 14, 12)
_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平"


def county_setup(password: str = "") -> HallSetup:
    """The county demo as workbook rows (every account with ``password``, or a generated one)."""
    setup = HallSetup()
    prefixes = iter("ABCDEFGHJKLMNPQRSTUVWXYZ")  # no I or O: they read as 1 and 0
    zone_services: list[list[str]] = [[], [], []]
    for code, name, zone, services in COUNTY_DEPARTMENTS:
        setup.departments.append(DepartmentRow(0, code, name))
        for s_code, s_name, legal, promised, fees, materials, basis in services:
            setup.services.append(
                ServiceRow(
                    0,
                    s_code,
                    s_name,
                    code,
                    next(prefixes),
                    legal,
                    promised,
                    20,
                    fees,
                    materials.split("；"),
                    basis,
                )
            )
            zone_services[zone].append(s_code)
    number = 0
    for zone, count in enumerate(WINDOWS_PER_ZONE):
        codes = zone_services[zone]
        for index in range(count):
            number += 1
            served = [codes[index % len(codes)]]
            if index >= len(codes):  # the zone's later windows also take a second queue
                served.append(codes[(index + 1) % len(codes)])
            if index == count - 1:  # the zone's last window is its 综合窗口
                served = list(codes)
            name = "综合窗口" if index == count - 1 else ""
            setup.windows.append(WindowRow(0, number, name, ZONES[zone], served))
    setup.people.append(
        PersonRow(0, "county-office", "县效能办督查员", "XN001", INSPECTOR, None, [], password)
    )
    for index, (code, name, _, _) in enumerate(COUNTY_DEPARTMENTS):
        setup.people.append(
            PersonRow(
                0,
                f"county-head-{code}",
                f"{name}负责人",
                f"FZ{index + 1:03d}",
                HEAD,
                None,
                [code],
                password,
            )
        )
    for window in setup.windows:
        n = window.number
        display = _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n * 7) % len(_GIVEN)]
        setup.people.append(
            PersonRow(0, f"county-w{n}", display, f"CK{n:03d}", STAFF, n, [], password)
        )
    return setup


@dataclass
class CountyCredentials:
    created: bool = False
    passwords: dict[str, str] = field(default_factory=dict)
    #: device name → key (shown once; derived from ``device_key`` when one is given)
    device_keys: dict[str, str] = field(default_factory=dict)


def _key(device_key: str | None, name: str) -> str:
    if not device_key:
        return secrets.token_urlsafe(24)
    return "cty-" + hashlib.sha256(f"{device_key}-{name}".encode()).hexdigest()[:32]


async def seed_county(
    db: Database,
    *,
    timezone: str,
    password: str | None = None,
    device_key: str | None = None,
) -> CountyCredentials:
    """Create the county demo hall if it is missing (idempotent: an existing one is left as
    it is, and nothing is printed for it)."""
    creds = CountyCredentials()
    async with db.write() as session:
        exists = (
            await session.execute(select(Hall.id).where(Hall.code == COUNTY_CODE))  # type: ignore[call-overload]
        ).first()
        if exists is not None:
            return creds
        tx = Tx(session, 0, utcnow(), Actor.system())
        hall = await create_hall(tx, code=COUNTY_CODE, name=COUNTY_NAME, timezone=timezone)
        assert hall.id is not None
        rows = county_setup(password or "")
        checked = await check_workbook(session, hall, write_workbook(rows))
        summary = await apply_setup(tx, hall, checked)
        creds.passwords = {
            p.username: password or summary.passwords[p.username] for p in rows.people
        }
        windows = {
            w.number: w
            for w in (
                await session.execute(select(Window).where(Window.hall_id == hall.id))  # type: ignore[arg-type]
            ).scalars()
        }
        devices: list[tuple[str, str, int | None]] = []
        for zone in ZONES:
            devices.append((KIOSK, f"{zone}取号机", None))
            devices.append((DISPLAY, f"{zone}综合屏", None))
        for number, window in sorted(windows.items()):
            devices.append((EVALUATOR, f"{number}号窗口评价器", window.id))
        for kind, name, window_id in devices:
            key = _key(device_key, name)
            device = Device(
                hall_id=hall.id,
                kind=kind,
                name=name,
                key_hash=hash_device_key(key),
                window_id=window_id,
                created_at=tx.now,
            )
            session.add(device)
            await session.flush()
            tx.audit("device.add", device)
            creds.device_keys[name] = key
        await tx.commit()
    creds.created = True
    return creds
