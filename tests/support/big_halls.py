"""Halls bigger than the demo for the device pages' browser tests: the county-size demo
(``demo --size county``: 24 queues in 12 departments, 3 zones, 40 windows) and a 40-queue hall
built the same way (the county's workbook with 16 more queues in 8 more departments)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from tests.support.dbs import KIOSK_KEY
from window_service.admin.county import _key, county_setup, seed_county
from window_service.admin.setup import check_workbook, create_hall
from window_service.admin.setup_apply import apply_setup
from window_service.admin.setup_rows import DepartmentRow, ServiceRow
from window_service.admin.workbook_write import write_workbook
from window_service.auth.principal import hash_device_key
from window_service.auth.roles import KIOSK
from window_service.db import create_database, utcnow
from window_service.halls.models import Device
from window_service.transaction import Actor, Tx

BIG_CODE = "big"
BIG_KIOSK_KEY = "big-kiosk-key-0123456789"
COUNTY_PASSWORD = "Quartz-Lagoon-46"


def county_kiosk_key() -> str:
    """The key of the county hall's first-zone kiosk (seeded with the tests' device key)."""
    return _key(KIOSK_KEY, "一楼A区取号机")


def county_pad_key(window: int) -> str:
    return _key(KIOSK_KEY, f"{window}号窗口评价器")


async def seed_big_halls(db_url: str) -> None:
    db = create_database(db_url)
    try:
        await seed_county(
            db, timezone="Asia/Shanghai", password=COUNTY_PASSWORD, device_key=KIOSK_KEY
        )
        rows = county_setup(COUNTY_PASSWORD)
        rows.people = [replace(p, username="big-" + p.username) for p in rows.people]
        extra = [
            "县退役军人事务局",
            "县残联",
            "县气象局",
            "县档案馆",
            "县烟草专卖局",
            "县邮政管理局",
            "县消防救援大队",
            "县红十字会",
        ]
        for d, name in enumerate(extra):
            rows.departments.append(DepartmentRow(0, f"extra{d}", name))
            for k in range(2):
                code = f"x{d}{k}"
                prefix = "Z" + "ABCDEFGHJKLMNPQR"[d * 2 + k]
                rows.services.append(
                    ServiceRow(
                        0,
                        code,
                        f"{name[1:3]}业务{k + 1}",
                        f"extra{d}",
                        prefix,
                        5,
                        1,
                        20,
                        "",
                        [],
                        "",
                    )
                )
                rows.windows[(d * 2 + k) % len(rows.windows)].services.append(code)
        async with db.write() as session:
            tx = Tx(session, 0, utcnow(), Actor.system())
            hall = await create_hall(
                tx, code=BIG_CODE, name="四十个事项的大厅", timezone="Asia/Shanghai"
            )
            assert hall.id is not None
            checked = await check_workbook(session, hall, write_workbook(rows))
            await apply_setup(tx, hall, checked)
            session.add(
                Device(
                    hall_id=hall.id,
                    kind=KIOSK,
                    name="取号机",
                    key_hash=hash_device_key(BIG_KIOSK_KEY),
                    created_at=tx.now,
                )
            )
            await tx.commit()
    finally:
        await db.dispose()


async def served_ticket(
    api: httpx.AsyncClient,
    hall: str,
    service: str,
    staff: str,
    password: str,
    kiosk_key: str,
    window: int,
) -> dict[str, Any]:
    """A ticket of ``service`` called, served and finished by ``staff`` at window ``window``."""
    ticket: dict[str, Any] = (
        await api.post(
            f"/api/v1/halls/{hall}/tickets",
            json={"service": service},
            headers={"X-Device-Key": kiosk_key},
        )
    ).json()
    token = (
        await api.post("/api/v1/auth/token", json={"username": staff, "password": password})
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    windows = (await api.get(f"/api/v1/halls/{hall}/windows")).json()
    wid = next(w["id"] for w in windows if w["number"] == window)
    called = await api.post(f"/api/v1/windows/{wid}/call-next", headers=auth)
    assert called.status_code == 200, called.text
    assert called.json()["id"] == ticket["id"], "another ticket was ahead"
    assert (
        await api.post(f"/api/v1/tickets/{ticket['id']}/start", headers=auth)
    ).status_code == 200
    done = await api.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "completed"}, headers=auth
    )
    assert done.status_code == 200, done.text
    return ticket
