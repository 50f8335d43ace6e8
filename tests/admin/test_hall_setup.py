"""A real county from zero: hall add, the set-up workbook (template, import, export), device
add, the county-size demo, and two halls kept apart."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.support.cases import clocked_app
from tests.support.cli import can_log_in, run_cli
from tests.support.client import KIOSK, login
from tests.support.hall_setup import (
    PASSWORD,
    database,
    new_hall,
    reset_password,
    run_import,
    small_setup,
)
from tests.support.settings import make_settings
from window_service.admin.county import seed_county
from window_service.admin.devices import add_device
from window_service.admin.setup import export_setup
from window_service.admin.setup_apply import SetupRefused
from window_service.admin.setup_rows import (
    HEADERS,
    DepartmentRow,
    HallSetup,
    ServiceRow,
    WindowRow,
)
from window_service.admin.workbook_write import write_workbook
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.auth.models import User
from window_service.clock import FixedClock
from window_service.db import Database, utcnow
from window_service.halls.models import Department, Device, Hall, Service, Window
from window_service.ledger import AuditRecord
from window_service.transaction import Actor, Tx


async def export(db: Database, code: str) -> bytes:
    async with db.read() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == code))).scalar_one()  # type: ignore[arg-type]
        return write_workbook(await export_setup(session, hall))


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.read() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def audit_count(db: Database) -> int:
    return await count(db, AuditRecord)


async def last_audit_id(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.max(AuditRecord.id)))).scalar_one() or 0)


# -- hall add, user add, template -------------------------------------------------------------
async def test_hall_add_then_admin_for_it(db_url: str, tmp_path: Path) -> None:
    r = await asyncio.to_thread(
        run_cli,
        db_url,
        tmp_path,
        "hall",
        "add",
        "xian",
        "--name",
        "某县政务服务中心",
        "--region",
        "610101",
        "--timezone",
        "Asia/Urumqi",
    )
    assert r.returncode == 0, r.stderr
    again = await asyncio.to_thread(
        run_cli, db_url, tmp_path, "hall", "add", "xian", "--name", "另一个"
    )
    assert again.returncode != 0
    assert "已存在" in again.stderr
    bad = await asyncio.to_thread(
        run_cli, db_url, tmp_path, "hall", "add", "xian2", "--name", "x", "--timezone", "Mars/Base"
    )
    assert bad.returncode != 0 and "时区" in bad.stderr
    added = await asyncio.to_thread(
        run_cli,
        db_url,
        tmp_path,
        "user",
        "add",
        "boss",
        "--role",
        "admin",
        "--hall",
        "xian",
        stdin="Cedar-Window-91\n",
    )
    assert added.returncode == 0, added.stderr
    async with database(db_url) as db:
        async with db.read() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "xian"))).scalar_one()  # type: ignore[arg-type]
            assert (hall.name, hall.region, hall.timezone) == (
                "某县政务服务中心",
                "610101",
                "Asia/Urumqi",
            )
        # Empty: no demo data came with it.
        for model in (Department, Service, Window, Device):
            assert await count(db, model, model.hall_id == hall.id) == 0
    assert await can_log_in(db_url, tmp_path, "boss", "Cedar-Window-91")
    # The template has the four sheets with their header cells and one example row each.
    template = tmp_path / "template.xlsx"
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "hall", "template", str(template))
    assert r.returncode == 0, r.stderr
    book = load_workbook(template)
    assert book.sheetnames == list(HEADERS)
    for name, headers in HEADERS.items():
        rows = list(book[name].iter_rows(values_only=True))
        assert rows[0] == headers and len(rows) == 2
    # …and it imports as it is.
    imported = await asyncio.to_thread(
        run_cli, db_url, tmp_path, "hall", "import", "xian", str(template)
    )
    assert imported.returncode == 0, imported.stderr
    assert "zhangwei" in imported.stdout  # the generated password is printed once
    # A kiosk for the new hall: its key is printed once and issues there only.
    device = await asyncio.to_thread(
        run_cli, db_url, tmp_path, "device", "add", "xian", "--kind", "kiosk"
    )
    assert device.returncode == 0, device.stderr
    key = device.stdout.strip().rsplit(" ", 1)[-1]
    bad_pad = await asyncio.to_thread(
        run_cli, db_url, tmp_path, "device", "add", "xian", "--kind", "evaluator"
    )
    assert bad_pad.returncode != 0 and "窗口" in bad_pad.stderr
    app = create_app(make_settings(db_url, tmp_path), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.post(
                "/api/v1/halls/xian/tickets",
                json={"service": "hukou"},
                headers={"X-Device-Key": key},
            )
            assert r.status_code == 201 and r.json()["number"] == "A001"
            r = await c.post(
                "/api/v1/halls/demo/tickets",
                json={"service": "hukou"},
                headers={"X-Device-Key": key},
            )
            assert r.status_code in (401, 403)
    finally:
        await app.state.core.db.dispose()


# -- import ---------------------------------------------------------------------------------------
def bad_workbook() -> bytes:
    """One workbook with every class of error the import must report."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    departments = book.create_sheet("部门")
    departments.append(["编码", "名称"])
    departments.append(["gongan", "县公安局"])
    departments.append(["gongan", "重复的部门"])  # row 3: duplicate code
    departments.append(["renshe", None])  # row 4: empty name
    services = book.create_sheet("事项")
    services.append(list(HEADERS["事项"]))
    services.append(["hukou", "户籍", "gongan", "A", 20, 5, 20, "免费", "身份证", ""])
    services.append(["hukou", "户籍2", "gongan", "B", 20, 5, 20, "", "", ""])  # 3: dup code
    services.append(
        ["shebao", "社保", "nowhere", "A", 20, 3, 20, "", "", ""]
    )  # 4: dept, dup prefix
    services.append(["qiye", "企业", "gongan", "a1", "十", -1, 20, "", "", ""])  # 5: prefix, days
    services.append(["shuiwu", "税务", "gongan", "E", 3, 5, 20, "", "", ""])  # 6: promised > legal
    services.append(["jiuye", "就业", "gongan", "F", 10, 3, 20, "", "", ""])  # 7: fine
    services.append(
        ["minzheng", "民政", "gongan", "X", 10, 3, 20, "", "", ""]
    )  # 8: existing prefix
    windows = book.create_sheet("窗口")
    windows.append(["窗口号", "名称", "区域", "事项编码"])
    windows.append([1, "", "一楼", "hukou、nosuch"])  # 2: unknown service
    windows.append([1, "", "一楼", "hukou"])  # 3: duplicate number
    windows.append(["x", "", "一楼", "hukou"])  # 4: not a number
    people = book.create_sheet("人员")
    people.append(list(HEADERS["人员"]))
    people.append(["p1", "甲", "", "boss", "", "", ""])  # 2: bad role
    people.append(["p2", "乙", "", "staff", "", "", ""])  # 3: staff without window
    people.append(["p3", "丙", "", "head", "", "", ""])  # 4: head without departments
    people.append(["p4", "丁", "", "staff", 9, "", ""])  # 5: unknown window
    people.append(["p4", "戊", "", "staff", 1, "", ""])  # 6: duplicate username
    people.append(["p5", "己", "", "head", "", "gongan、nosuch", ""])  # 7: unknown department
    people.append(["w1", "庚", "", "staff", 1, "", ""])  # 8: username of another hall
    people.append(["p6", None, "", "staff", 1, "", "short"])  # 9: empty name, short password
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPECTED_ERRORS = [
    ("部门", 3, "编码"),
    ("部门", 4, "名称"),
    ("事项", 3, "编码"),
    ("事项", 4, "部门编码"),
    ("事项", 4, "号段"),
    ("事项", 5, "号段"),
    ("事项", 5, "法定时限"),
    ("事项", 5, "承诺时限"),
    ("事项", 6, "承诺时限"),
    ("事项", 8, "号段"),
    ("窗口", 2, "事项编码"),
    ("窗口", 3, "窗口号"),
    ("窗口", 4, "窗口号"),
    ("人员", 2, "角色"),
    ("人员", 3, "窗口号"),
    ("人员", 4, "部门编码"),
    ("人员", 5, "窗口号"),
    ("人员", 6, "用户名"),
    ("人员", 7, "部门编码"),
    ("人员", 8, "用户名"),
    ("人员", 9, "姓名"),
    ("人员", 9, "密码"),
]


async def test_every_error_is_reported_and_nothing_written(db_url: str, tmp_path: Path) -> None:
    async with database(db_url) as db:
        hall = await new_hall(db)
        # An existing service of the hall that is not in the file keeps its prefix X.
        first = HallSetup(
            departments=[DepartmentRow(0, "old", "旧部门")],
            services=[ServiceRow(0, "old", "旧事项", "old", "X", 1, 1, 20, "", [], "")],
            windows=[WindowRow(0, 7, "", "", ["old"])],
            people=[],
        )
        await run_import(db, "xian", write_workbook(first))
        before = await audit_count(db)
        with pytest.raises(SetupRefused) as refused:
            await run_import(db, "xian", bad_workbook())
        found = {(p.sheet, p.row, p.column) for p in refused.value.problems}
        missing = [e for e in EXPECTED_ERRORS if e not in found]
        assert not missing, (missing, [str(p) for p in refused.value.problems])
        assert all(
            any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in refused.value.problems
        )
        assert await audit_count(db) == before
        assert await count(db, Department, Department.hall_id == hall.id) == 1
        assert await count(db, User, User.username.like("p%")) == 0  # type: ignore[attr-defined]
    # The command prints each as 工作表 第N行 列名: message, writes nothing and exits 1.
    path = tmp_path / "bad.xlsx"
    path.write_bytes(bad_workbook())
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "hall", "import", "xian", str(path))
    assert r.returncode == 1
    assert "事项 第6行 承诺时限: 承诺时限（5 个工作日）不得超过法定时限（3 个工作日）" in r.stderr
    assert "人员 第3行 窗口号: 窗口工作人员须填写窗口号" in r.stderr
    assert "事项 第8行 号段: 号段「X」已被本大厅事项「old」使用" in r.stderr
    # A missing sheet and a missing header are reported too.
    book = Workbook()
    book.active.title = "部门"  # type: ignore[union-attr]
    book.active.append(["编码"])  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    async with database(db_url) as db:
        with pytest.raises(SetupRefused) as refused:
            await run_import(db, "xian", out.getvalue())
    messages = [str(p) for p in refused.value.problems]
    assert "部门 第1行 名称: 缺少表头「名称」" in messages
    assert any(m.startswith("窗口 第1行") and "缺少工作表" in m for m in messages)
    async with database(db_url) as db:
        with pytest.raises(SetupRefused) as refused:
            await run_import(db, "xian", b"not a workbook")
    assert "Excel" in str(refused.value.problems[0])


async def test_dry_run_writes_nothing(db_url: str) -> None:
    async with database(db_url) as db:
        hall = await new_hall(db)
        before = await audit_count(db)
        summary = await run_import(db, "xian", write_workbook(small_setup()), dry_run=True)
        assert summary.created["service"] == 3 and summary.created["user"] == 5
        assert summary.passwords == {}  # nothing was created, so nothing to show
        assert await audit_count(db) == before
        for model in (Department, Service, Window, User):
            assert await count(db, model, model.hall_id == hall.id) == 0


async def test_reimport_updates_in_place_and_switches_off(db_url: str, tmp_path: Path) -> None:
    async with database(db_url) as db:
        hall = await new_hall(db)
        first = await run_import(db, "xian", write_workbook(small_setup()))
        assert (first.created["department"], first.created["service"]) == (2, 3)
        assert (first.created["window"], first.created["user"]) == (4, 5)
        assert set(first.passwords) == {"xian-w2", "xian-w3", "xian-head", "xian-office"}
        assert all(len(pw) >= 16 for pw in first.passwords.values())
        assert await can_log_in(db_url, tmp_path, "xian-w1", PASSWORD)
        assert await can_log_in(db_url, tmp_path, "xian-w2", first.passwords["xian-w2"])

        changed = small_setup()
        changed.services[0].name = "户籍业务"
        changed.services[0].fees = "工本费20元"
        del changed.services[2]  # jiuye: switched off
        changed.windows = [w for w in changed.windows if w.number != 4]  # closed
        changed.windows[2].services = ["shebao"]
        changed.windows[0].zone = "一楼B区"
        changed.people = [p for p in changed.people if p.username != "xian-w3"]  # deactivated
        changed.people[0].display_name = "王大伟"
        last_id = await last_audit_id(db)
        summary = await run_import(db, "xian", write_workbook(changed))
        assert summary.updated["service"] == 1
        assert summary.switched_off["service"] == 1
        assert summary.updated["window"] == 2
        assert summary.switched_off["window"] == 1
        assert summary.updated["user"] == 1 and summary.switched_off["user"] == 1
        assert summary.passwords == {}
        async with db.read() as session:
            services = {
                s.code: s
                for s in (
                    await session.execute(select(Service).where(Service.hall_id == hall.id))
                ).scalars()  # type: ignore[arg-type]
            }
            assert services["hukou"].name == "户籍业务" and services["hukou"].fees == "工本费20元"
            assert services["jiuye"].active is False  # kept, switched off
            windows = {
                w.number: w
                for w in (
                    await session.execute(select(Window).where(Window.hall_id == hall.id))
                ).scalars()  # type: ignore[arg-type]
            }
            assert windows[4].status == "closed" and windows[1].zone == "一楼B区"
            w3 = (
                await session.execute(select(User).where(User.username == "xian-w3"))
            ).scalar_one()  # type: ignore[arg-type]
            assert w3.active is False
            records = list(
                (
                    await session.execute(
                        select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id)  # type: ignore[arg-type, operator]
                    )
                ).scalars()
            )
        actions = [r.action for r in records]
        assert actions.count("service.update") == 2  # renamed, switched off
        assert "window.closed" in actions and "user.deactivate" in actions
        renamed = next(
            r for r in records if r.action == "service.update" and r.after["code"] == "hukou"
        )
        assert renamed.before["name"] == "户籍办理" and renamed.after["name"] == "户籍业务"
        # Listing the service again switches it back on, and the window reopens.
        again = await run_import(db, "xian", write_workbook(small_setup()))
        assert again.created["service"] == 0 and again.updated["service"] == 2
        assert await can_log_in(db_url, tmp_path, "xian-w2", first.passwords["xian-w2"])
        assert await count(db, Service, Service.hall_id == hall.id, Service.active.is_(True)) == 3  # type: ignore[attr-defined]
    assert await verify_command(db_url) == 0


async def test_export_then_import_changes_nothing(db_url: str, tmp_path: Path) -> None:
    async with database(db_url) as db:
        await new_hall(db)
        await run_import(db, "xian", write_workbook(small_setup()))
        exported = await export(db, "xian")
        before = await audit_count(db)
        summary = await run_import(db, "xian", exported)
        assert summary.changes == 0
        assert await audit_count(db) == before
        book = load_workbook(io.BytesIO(exported))
        services = list(book["事项"].iter_rows(values_only=True))
        assert services[1][:4] == ("hukou", "户籍办理", "gongan", "A")
        assert services[1][8] == "居民身份证；户口簿"
        windows = list(book["窗口"].iter_rows(values_only=True))
        assert windows[4] == (4, "综合窗口", "二楼", "jiuye、shebao、hukou")
        people = {row[0]: row for row in book["人员"].iter_rows(values_only=True)}
        assert people["xian-head"][5] == "gongan、renshe"
        assert all(not row[6] for name, row in people.items() if name != "用户名")  # no passwords
    # The command does the same.
    path = tmp_path / "export.xlsx"
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "hall", "export", "xian", str(path))
    assert r.returncode == 0, r.stderr
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "hall", "import", "xian", str(path))
    assert r.returncode == 0, r.stderr
    assert "没有变化" in r.stdout


async def test_county_demo_is_built_by_the_import(db_url: str) -> None:
    async with database(db_url) as db:
        creds = await seed_county(db, timezone="Asia/Shanghai", password="Quartz-Lagoon-46")
        assert creds.created
        async with db.read() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "county"))).scalar_one()  # type: ignore[arg-type]
            hall_id = hall.id
            zones = set(
                (
                    await session.execute(select(Window.zone).where(Window.hall_id == hall_id))
                ).scalars()  # type: ignore[call-overload]
            )
        assert await count(db, Department, Department.hall_id == hall_id) == 12
        assert await count(db, Service, Service.hall_id == hall_id) == 24
        assert await count(db, Window, Window.hall_id == hall_id) == 40
        assert zones == {"一楼A区", "一楼B区", "二楼"}
        assert await count(db, User, User.hall_id == hall_id) == 53
        assert await count(db, Device, Device.hall_id == hall_id) == 46
        again = await seed_county(db, timezone="Asia/Shanghai")
        assert not again.created
        before = await audit_count(db)
        assert (await run_import(db, "county", await export(db, "county"))).changes == 0
        assert await audit_count(db) == before


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


# -- the admin page's import -------------------------------------------------------------------
async def test_hall_admin_imports_through_the_api(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    from tests.support.client import csrf_from, page_login
    from window_service.auth.service import add_user

    async with database(db_url) as db:
        hall = await new_hall(db)
        async with db.write() as session:
            tx = Tx(session, hall.id or 0, utcnow(), Actor("test"))
            await add_user(
                tx, hall_id=hall.id or 0, username="boss", role="admin", password=PASSWORD
            )
            await tx.commit()
    good = write_workbook(small_setup())
    files = {"file": ("xian.xlsx", good, "application/octet-stream")}
    async with clocked_app(db_url, tmp_path, clock) as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            boss = await login(c, "boss", PASSWORD)
            demo_admin = await login(c, "admin")
            # A hall admin manages only their own hall.
            r = await c.post(
                "/api/v1/halls/xian/setup/import?dry_run=true", files=files, headers=demo_admin
            )
            assert r.status_code == 403
            r = await c.post(
                "/api/v1/halls/demo/setup/import?dry_run=true", files=files, headers=boss
            )
            assert r.status_code == 403
            assert (await c.get("/api/v1/halls/demo/setup/export", headers=boss)).status_code == 403
            w1 = await login(c, "w1")
            assert (await c.get("/api/v1/setup/template", headers=w1)).status_code == 403
            # Errors: 422 with every problem, nothing written.
            bad = {"file": ("bad.xlsx", bad_workbook(), "application/octet-stream")}
            r = await c.post("/api/v1/halls/xian/setup/import", files=bad, headers=boss)
            assert r.status_code == 422
            error = r.json()["error"]
            assert error["code"] == "invalid_workbook"
            assert {
                "sheet": "人员",
                "row": 3,
                "column": "窗口号",
                "message": "窗口工作人员须填写窗口号",
            } in error["details"]
            assert len(error["details"]) >= len(EXPECTED_ERRORS) - 1  # no service X in this hall
            # Not a multipart body, or no file: clear errors.
            assert (
                await c.post("/api/v1/halls/xian/setup/import", json={}, headers=boss)
            ).status_code == 415
            # Dry run: the changes it would make, nothing written.
            r = await c.post(
                "/api/v1/halls/xian/setup/import?dry_run=true", files=files, headers=boss
            )
            assert r.status_code == 200, r.text
            assert r.json()["created"] == {"department": 2, "service": 3, "window": 4, "user": 5}
            assert r.json()["passwords"] == {}
            assert (await c.get("/api/v1/halls/xian/windows")).json() == []
            r = await c.post("/api/v1/halls/xian/setup/import", files=files, headers=boss)
            assert r.status_code == 200, r.text
            assert r.json()["changes"] == 14 and set(r.json()["passwords"]) == {
                "xian-w2",
                "xian-w3",
                "xian-head",
                "xian-office",
            }
            assert len((await c.get("/api/v1/halls/xian/windows")).json()) == 4
            # The service guide reaches the kiosk's list.
            services = {s["code"]: s for s in (await c.get("/api/v1/halls/xian/services")).json()}
            assert services["hukou"]["materials"] == ["居民身份证", "户口簿"]
            assert (
                services["hukou"]["fees"] == "免费"
                and services["hukou"]["legal_basis"] == "《户口登记条例》"
            )
            exported = await c.get("/api/v1/halls/xian/setup/export", headers=boss)
            assert exported.status_code == 200
            assert exported.headers["content-type"].startswith("application/vnd.openxmlformats")
            again = await c.post(
                "/api/v1/halls/xian/setup/import",
                files={"file": ("e.xlsx", exported.content, "application/octet-stream")},
                headers=boss,
            )
            assert again.status_code == 200 and again.json()["changes"] == 0
            template = await c.get("/api/v1/setup/template", headers=boss)
            assert template.status_code == 200 and load_workbook(
                io.BytesIO(template.content)
            ).sheetnames == list(HEADERS)
        # The page: the import section, in Chinese and in English.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hall.test"
        ) as c:
            assert (await page_login(c, "boss", PASSWORD)).status_code == 303
            page = await c.get("/office/admin")
            assert page.status_code == 200
            for text in ("导入配置表", "下载导入模板", "确认导入", "一楼A区"):
                assert text in page.text, text
            token = csrf_from(page.text)
            r = await c.post(
                "/api/v1/halls/xian/setup/import?dry_run=true",
                files=files,
                headers={"X-CSRF-Token": token},
            )
            assert r.status_code == 200 and r.json()["changes"] == 0
            english = await c.get("/office/admin?lang=en")
            assert (
                "Import a configuration workbook" in english.text
                and "导入配置表" not in english.text
            )


async def test_a_prefix_moves_from_one_service_to_another(db_url: str) -> None:
    async with database(db_url) as db:
        hall = await new_hall(db)
        await run_import(db, "xian", write_workbook(small_setup()))
        moved = small_setup()
        moved.services[0].prefix = "H"  # hukou gives A up …
        moved.services[2].prefix = "A"  # … to jiuye, listed after it
        summary = await run_import(db, "xian", write_workbook(moved))
        assert summary.updated["service"] == 2
        async with db.read() as session:
            prefixes = dict(
                (
                    await session.execute(
                        select(Service.code, Service.prefix).where(Service.hall_id == hall.id)
                    )
                ).all()  # type: ignore[call-overload]
            )
        assert prefixes == {"hukou": "H", "shebao": "B", "jiuye": "A"}
        swapped = small_setup()  # shebao B ⇄ jiuye A: neither can go first
        swapped.services[0].prefix = "H"
        swapped.services[1].prefix, swapped.services[2].prefix = "A", "B"
        with pytest.raises(SetupRefused) as refused:
            await run_import(db, "xian", write_workbook(swapped))
        assert any(p.sheet == "事项" and p.column == "号段" for p in refused.value.problems)
