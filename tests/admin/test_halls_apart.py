"""Two halls in one deployment kept apart (numbering, staff, devices, pages), and zones (区域):
the call text and a zone's display."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from tests.support.cases import clocked_app
from tests.support.client import KIOSK, login
from tests.support.hall_setup import (
    PASSWORD,
    database,
    new_hall,
    reset_password,
    run_import,
    small_setup,
)
from window_service.admin.devices import add_device
from window_service.admin.workbook_write import write_workbook
from window_service.clock import FixedClock
from window_service.db import utcnow
from window_service.transaction import Actor, Tx


# -- two halls ---------------------------------------------------------------------------------
async def test_two_halls_are_kept_apart(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    async with database(db_url) as db:
        hall = await new_hall(db)
        await run_import(db, "xian", write_workbook(small_setup()))
        async with db.write() as session:
            tx = Tx(session, hall.id or 0, utcnow(), Actor("test"))
            _, kiosk_key = await add_device(tx, hall, "kiosk", "大厅取号机", None)
            await tx.commit()
    xian_kiosk = {"X-Device-Key": kiosk_key}
    async with clocked_app(db_url, tmp_path, clock) as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            # Each hall numbers from 001 per prefix, its own kiosk only.
            demo_ticket = (
                await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
            ).json()
            r = await c.post(
                "/api/v1/halls/xian/tickets", json={"service": "hukou"}, headers=xian_kiosk
            )
            assert r.status_code == 201, r.text
            assert r.json()["number"] == demo_ticket["number"] == "A001"
            r = await c.post(
                "/api/v1/halls/xian/tickets", json={"service": "jiuye"}, headers=xian_kiosk
            )
            assert r.json()["number"] == "JY001"
            assert (
                await c.post("/api/v1/halls/xian/tickets", json={"service": "hukou"}, headers=KIOSK)
            ).status_code in (401, 403)
            assert (
                await c.post(
                    "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=xian_kiosk
                )
            ).status_code in (401, 403)
            windows = {w["number"]: w for w in (await c.get("/api/v1/halls/xian/windows")).json()}
            assert set(windows) == {1, 2, 3, 4}
            demo_windows = {
                w["number"]: w for w in (await c.get("/api/v1/halls/demo/windows")).json()
            }
            # Staff of one hall get 403 on the other's windows.
            xian_w1 = await login(c, "xian-w1", PASSWORD)
            r = await c.post(f"/api/v1/windows/{demo_windows[1]['id']}/call-next", headers=xian_w1)
            assert r.status_code == 403
            w1 = await login(c, "w1")
            r = await c.post(f"/api/v1/windows/{windows[1]['id']}/call-next", headers=w1)
            assert r.status_code == 403
            # A receipt of the new hall carries its own code.
            called = await c.post(f"/api/v1/windows/{windows[1]['id']}/call-next", headers=xian_w1)
            assert called.status_code == 200, called.text
            ticket = called.json()
            assert (
                await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=xian_w1)
            ).status_code == 200
            r = await c.post(
                f"/api/v1/tickets/{ticket['id']}/case",
                json={"applicant_name": "张三", "applicant_phone": "13800138000"},
                headers=xian_w1,
            )
            assert r.status_code == 201, r.text
            assert r.json()["receipt_no"] == "XIAN-20261126-0001"
            # The demo's admin cannot configure the new hall.
            admin = await login(c, "admin")
            assert (await c.get("/api/v1/halls/xian/settings", headers=admin)).status_code == 403


# -- zones ---------------------------------------------------------------------------------------
async def test_zones_in_call_text_and_display_snapshot(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    from window_service.app import SNAPSHOT_PARTS
    from window_service.ledger import HallEvent
    from window_service.realtime.snapshot import snapshot

    async with database(db_url) as db:
        hall = await new_hall(db)
        await run_import(db, "xian", write_workbook(small_setup()))
        async with db.write() as session:
            tx = Tx(session, hall.id or 0, utcnow(), Actor("test"))
            _, kiosk_key = await add_device(tx, hall, "kiosk", "大厅取号机", None)
            await tx.commit()
    async with clocked_app(db_url, tmp_path, clock) as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            for service in ("hukou", "jiuye"):
                r = await c.post(
                    "/api/v1/halls/xian/tickets",
                    json={"service": service},
                    headers={"X-Device-Key": kiosk_key},
                )
                assert r.status_code == 201, r.text
            windows = {w["number"]: w for w in (await c.get("/api/v1/halls/xian/windows")).json()}
            w1 = await login(c, "xian-w1", PASSWORD)
            assert (
                await c.post(f"/api/v1/windows/{windows[1]['id']}/call-next", headers=w1)
            ).status_code == 200
            # The demo hall has no zones: its call text is as before.
            demo_windows = {
                w["number"]: w for w in (await c.get("/api/v1/halls/demo/windows")).json()
            }
            await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
            demo_w1 = await login(c, "w1")
            assert (
                await c.post(f"/api/v1/windows/{demo_windows[1]['id']}/call-next", headers=demo_w1)
            ).status_code == 200
        async with app.state.core.db.read() as session:
            calls = list(
                (
                    await session.execute(
                        select(HallEvent).where(HallEvent.type == "call").order_by(HallEvent.id)
                    )
                ).scalars()  # type: ignore[arg-type]
            )
            texts = [e.payload["text"] for e in calls]
            assert texts == ["请A001号到一楼A区1号窗口办理", "请A001号到1号窗口办理"]
            assert calls[0].payload["zone"] == "一楼A区"
            snap = await snapshot(session, hall, clock.now(), SNAPSHOT_PARTS)
    by_number = {w["number"]: w for w in snap["windows"]}
    assert snap["zones"] == ["一楼A区", "二楼"]
    assert by_number[2]["zone"] == "一楼A区" and by_number[2]["prefixes"] == ["A", "B"]
    assert by_number[3]["prefixes"] == ["B", "JY"]
    # A hall of one zone names none.
    async with database(db_url) as db:
        one_zone = small_setup()
        for window in one_zone.windows:
            window.zone = "一楼"
        await run_import(db, "xian", write_workbook(one_zone))
    async with clocked_app(db_url, tmp_path, clock) as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            windows = {w["number"]: w for w in (await c.get("/api/v1/halls/xian/windows")).json()}
            w3 = await login(c, "xian-w3", (await reset_password(db_url, "xian-w3")))
            r = await c.post(f"/api/v1/windows/{windows[3]['id']}/call-next", headers=w3)
            assert r.status_code == 200, r.text
        async with app.state.core.db.read() as session:
            last = (
                (
                    await session.execute(
                        select(HallEvent)
                        .where(HallEvent.type == "call")
                        .order_by(HallEvent.id.desc())
                    )
                )
                .scalars()
                .first()
            )  # type: ignore[arg-type, attr-defined]
            assert last is not None and last.payload["text"] == "请JY001号到3号窗口办理"
