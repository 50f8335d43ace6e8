"""A second hall set up by workbook, in a real browser: a hall TV pointed at one zone, and the
service guide on the kiosk (SQLite only: the pages do not depend on the database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import SHOTS, wait_until
from tests.support.client import login
from tests.support.hall_setup import (
    PASSWORD,
    database,
    new_hall,
    reset_password,
    run_import,
    small_setup,
)
from tests.support.server import LiveServer, start_server
from window_service.admin.devices import add_device
from window_service.admin.workbook_write import write_workbook
from window_service.db import utcnow
from window_service.transaction import Actor, Tx

pytestmark = pytest.mark.browser


@pytest.fixture
async def sqlite_url(templates: dict[str, Any]) -> AsyncIterator[str]:
    template = templates["sqlite"]
    url: str = await template.fresh()
    yield url
    await template.drop(url)


async def test_zone_display_and_kiosk_guide(sqlite_url: str, tmp_path: Path, browser: Any) -> None:
    async with database(sqlite_url) as db:
        hall = await new_hall(db)
        await run_import(db, "xian", write_workbook(small_setup()))
        async with db.write() as session:
            tx = Tx(session, hall.id or 0, utcnow(), Actor("test"))
            _, key = await add_device(tx, hall, "kiosk", "大厅取号机", None)
            await tx.commit()
    await reset_password(sqlite_url, "xian-w3")
    SHOTS.mkdir(parents=True, exist_ok=True)
    server: LiveServer = start_server(sqlite_url, tmp_path)
    api = httpx.AsyncClient(base_url=server.url, timeout=15)
    try:
        kiosk_key = {"X-Device-Key": key}
        windows = {
            w["number"]: w["id"] for w in (await api.get("/api/v1/halls/xian/windows")).json()
        }
        context = await browser.new_context(viewport={"width": 1920, "height": 1080})
        display = await context.new_page()
        await display.goto(f"{server.url}/display/xian?zone=一楼A区&voice=off")
        await wait_until(display, "window.hallDisplay && window.hallDisplay.connected")
        await display.wait_for_selector(".hd-window[data-window='2']")
        shown = await display.eval_on_selector_all(
            ".hd-window", "cards => cards.map(c => c.dataset.window)"
        )
        assert shown == ["1", "2"]
        assert "一楼A区" in await display.inner_text("h1")
        # Only the queues of the zone's windows (A and B; JY is served upstairs only).
        await display.wait_for_selector(".hd-wait[data-prefix='A']")
        prefixes = await display.eval_on_selector_all(
            ".hd-wait", "chips => chips.map(c => c.dataset.prefix)"
        )
        assert prefixes == ["A", "B"]
        for service in ("jiuye", "hukou"):
            r = await api.post(
                "/api/v1/halls/xian/tickets", json={"service": service}, headers=kiosk_key
            )
            assert r.status_code == 201, r.text
        # A call upstairs is not on this TV; a call in the zone is, with the zone in its text.
        w3 = await login(api, "xian-w3", PASSWORD)
        assert (
            await api.post(f"/api/v1/windows/{windows[3]}/call-next", headers=w3)
        ).status_code == 200
        w1 = await login(api, "xian-w1", PASSWORD)
        assert (
            await api.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)
        ).status_code == 200
        await wait_until(display, "window.hallDisplay.announcements.length === 1")
        assert await display.evaluate("window.hallDisplay.announcements") == [
            "请A001号到一楼A区1号窗口办理"
        ]
        assert "一楼A区" in await display.inner_text("#latest-call")
        assert "JY001" not in await display.inner_text("body")
        await display.screenshot(path=str(SHOTS / "hall-display-zone.png"))

        # The kiosk (portrait 1080×1920) shows a service's guide and takes a ticket from it.
        kiosk_ctx = await browser.new_context(viewport={"width": 1080, "height": 1920})
        kiosk = await kiosk_ctx.new_page()
        await kiosk.add_init_script("window.print = () => {};")
        await kiosk.goto(f"{server.url}/kiosk/xian?key={key}&print=0")
        await kiosk.wait_for_selector("button[data-guide=hukou]")
        assert await kiosk.locator("button[data-guide=jiuye]").count() == 0  # nothing to show
        await kiosk.click("button[data-guide=hukou]")
        guide = kiosk.locator("#guide")
        await guide.wait_for(state="visible")
        text = await guide.inner_text()
        for part in ("户籍办理", "居民身份证", "户口簿", "免费", "《户口登记条例》", "5 个工作日"):
            assert part in text, part
        box = await kiosk.locator(".k-guide-panel").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1920
        await kiosk.screenshot(path=str(SHOTS / "kiosk-guide.png"))
        await kiosk.click("#guide-take")
        await kiosk.wait_for_selector("#screen-ticket:not([hidden])")
        assert await kiosk.inner_text("#t-number") == "A002"
    finally:
        await api.aclose()
        server.stop()
