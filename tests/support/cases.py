"""Helpers of the case, first-responder and commitment tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from tests.support.client import issue, login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.auth.models import User, UserDepartment
from window_service.auth.passwords import hash_password
from window_service.clock import FixedClock
from window_service.db import create_database
from window_service.halls.models import Department, Hall
from window_service.ledger import HallEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@asynccontextmanager
async def clocked_app(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Any]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    try:
        yield app
    finally:
        await app.state.core.db.dispose()


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hall.test")


async def window_ids(client: httpx.AsyncClient) -> dict[int, int]:
    windows = (await client.get("/api/v1/halls/demo/windows")).json()
    return {w["number"]: w["id"] for w in windows}


async def call(client: httpx.AsyncClient, window: int, headers: dict[str, str]) -> dict[str, Any]:
    ids = await window_ids(client)
    r = await client.post(f"/api/v1/windows/{ids[window]}/call-next", headers=headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def serving(
    client: httpx.AsyncClient, service: str = "hukou", window: int = 1
) -> tuple[dict[str, Any], dict[str, str]]:
    """A ticket being served at ``window`` by its staff member; returns (ticket, headers)."""
    ticket = await issue(client, service)
    headers = await login(client, f"w{window}")
    called = await call(client, window, headers)
    assert called["number"] == ticket["number"]
    r = await client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=headers)
    assert r.status_code == 200, r.text
    return ticket, headers


async def accept(
    client: httpx.AsyncClient, service: str = "hukou", window: int = 1, name: str = "张小三"
) -> tuple[dict[str, Any], dict[str, str]]:
    ticket, headers = await serving(client, service, window)
    r = await client.post(
        f"/api/v1/tickets/{ticket['id']}/case",
        json={"applicant_name": name, "applicant_phone": "13800138000"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json(), headers


async def add_head(db_url: str, username: str, department_code: str) -> None:
    """A department head answering for one department only."""
    db = create_database(db_url)
    try:
        async with db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()
            dept = (
                await session.execute(
                    select(Department).where(
                        Department.hall_id == hall.id, Department.code == department_code
                    )
                )
            ).scalar_one()
            user = User(
                hall_id=hall.id,
                username=username,
                role="head",
                display_name=username,
                password_hash=hash_password(DEMO_PASSWORD),
            )
            session.add(user)
            await session.flush()
            session.add(UserDepartment(user_id=user.id, department_id=dept.id))
            await session.commit()
    finally:
        await db.dispose()


async def office_events(app: Any, type_: str) -> list[dict[str, Any]]:
    """The hall's logged events of one type, oldest first."""
    async with app.state.core.db.read() as session:
        rows = await session.execute(
            select(HallEvent).where(HallEvent.type == type_).order_by(HallEvent.seq)
        )
        return [dict(e.payload) for e in rows.scalars()]
