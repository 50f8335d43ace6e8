"""The hall admin's set-up through the API (upload, dry run, confirm) and a prefix moved from one
service to another by a re-import."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.support.cases import clocked_app
from tests.support.client import login
from tests.support.hall_setup import (
    EXPECTED_ERRORS,
    PASSWORD,
    bad_workbook,
    database,
    new_hall,
    run_import,
    small_setup,
)
from window_service.admin.setup_apply import SetupRefused
from window_service.admin.setup_rows import (
    HEADERS,
)
from window_service.admin.workbook_write import write_workbook
from window_service.clock import FixedClock
from window_service.db import utcnow
from window_service.halls.models import Service
from window_service.transaction import Actor, Tx


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
