"""A real county from zero: hall add, the set-up workbook (template, import, export), device
add, and the county-size demo built by the import."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from tests.support.cli import can_log_in, run_cli
from tests.support.hall_setup import (
    EXPECTED_ERRORS,
    PASSWORD,
    audit_count,
    bad_workbook,
    count,
    database,
    export,
    last_audit_id,
    new_hall,
    run_import,
    small_setup,
)
from tests.support.settings import make_settings
from window_service.admin.county import seed_county
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
from window_service.halls.models import Department, Device, Hall, Service, Window
from window_service.ledger import AuditRecord


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
