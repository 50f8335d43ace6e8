"""Booking on the phone (390×844), checking in at the kiosk, and the booked ticket called first,
in headless Chromium against a real server in the test's event loop (the hall clock fixed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, expect

from tests.support.browser import SHOTS
from tests.support.client import KIOSK, login
from tests.support.dbs import KIOSK_KEY
from tests.support.server import free_port
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.clock import FixedClock

pytestmark = pytest.mark.browser


@contextlib.asynccontextmanager
async def serve(db_url: str, var_dir: Path, clock: FixedClock) -> AsyncIterator[str]:
    app = create_app(make_settings(db_url, var_dir), clock=clock, run_housekeeping=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.ensure_future(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def test_book_on_the_phone_check_in_at_the_kiosk_called_first(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    clock = FixedClock(datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI))
    async with serve(db_url, tmp_path, clock) as url, httpx.AsyncClient(base_url=url) as http:
        phone = await browser.new_page(viewport={"width": 390, "height": 844})
        await phone.goto(f"{url}/book/demo")
        await expect(phone.locator("h1")).to_have_text("网上预约")
        await phone.select_option("#book-service", "hukou")
        await phone.select_option("#book-day", "2026-11-26")
        slot = phone.locator('.slot[data-start="09:00"]')
        await expect(slot).to_be_enabled()
        await slot.click()
        await phone.fill("#book-name", "张三")
        await phone.fill("#book-phone", "13812345678")
        # Nothing sticks out of the phone's width.
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        SHOTS.mkdir(parents=True, exist_ok=True)
        await phone.screenshot(path=str(SHOTS / "book-phone.png"), full_page=True)
        await phone.click("#book-submit")
        await expect(phone.locator("#status")).to_have_text("已预约")
        code = (await phone.locator("#code").text_content() or "").strip()
        assert len(code) == 8
        await expect(phone.locator(".book-qr svg")).to_be_visible()
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        await phone.screenshot(path=str(SHOTS / "book-confirmation.png"), full_page=True)

        walk_ins: list[dict[str, Any]] = []
        for _ in range(2):
            r = await http.post(
                "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
            )
            walk_ins.append(r.json())

        clock.set(datetime(2026, 11, 26, 8, 40, tzinfo=SHANGHAI))
        kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920})
        await kiosk.goto(f"{url}/kiosk/demo?key={KIOSK_KEY}&print=0")
        await kiosk.click("#checkin-open")
        await kiosk.fill("#checkin-code", code)
        await kiosk.click('#checkin-form button[type="submit"]')
        await expect(kiosk.locator("#screen-ticket")).to_be_visible()
        await expect(kiosk.locator("#t-green")).to_contain_text("预约")
        number = (await kiosk.locator("#t-number").text_content() or "").strip()
        assert number > walk_ins[-1]["number"]

        staff = await login(http, "w1")
        called = await http.post("/api/v1/windows/1/call-next", headers=staff)
        assert called.status_code == 200 and called.json()["number"] == number

        await phone.reload()
        await expect(phone.locator("#status")).to_have_text("已签到")


async def test_remote_ticket_on_the_phone_then_checked_in_at_the_kiosk(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    async with serve(db_url, tmp_path, clock) as url, httpx.AsyncClient(base_url=url) as http:
        phone = await browser.new_page(viewport={"width": 390, "height": 844})
        await phone.goto(f"{url}/remote/demo")
        await phone.select_option("#book-service", "hukou")
        await phone.fill("#book-phone", "13912345678")
        await phone.click('#remote-form button[type="submit"]')
        await expect(phone.locator("#status")).to_have_text("未签到")
        await expect(phone.locator("#callout")).to_contain_text("签到")
        number = (await phone.locator("#number").text_content() or "").strip()

        staff = await login(http, "w1")
        nothing = await http.post("/api/v1/windows/1/call-next", headers=staff)
        assert nothing.status_code == 204  # not called before it is checked in

        kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920})
        await kiosk.goto(f"{url}/kiosk/demo?key={KIOSK_KEY}&print=0")
        await kiosk.click("#checkin-open")
        await kiosk.fill("#checkin-code", number)
        await kiosk.click('#checkin-form button[type="submit"]')
        await expect(kiosk.locator("#t-number")).to_have_text(number)
        await expect(phone.locator("#status")).to_have_text("等候中")
        called = await http.post("/api/v1/windows/1/call-next", headers=staff)
        assert called.json()["number"] == number
        await expect(phone.locator("#callout")).to_contain_text("1号窗口")


async def test_admin_changes_a_services_capacity_on_the_settings_page(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    from tests.support.dbs import DEMO_PASSWORD

    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    async with serve(db_url, tmp_path, clock) as url, httpx.AsyncClient(base_url=url) as http:
        page = await browser.new_page()
        await page.goto(f"{url}/login")
        await page.fill('input[name="username"]', "admin")
        await page.fill('input[name="password"]', DEMO_PASSWORD)
        await page.click('button[type="submit"]')
        await page.goto(f"{url}/office/appointments/settings")
        row = page.locator('tr[data-service="qiye"]')
        await row.locator('[name="capacity"]').fill("20")
        await row.locator(".save-service").click()
        await expect(row.locator(".bookable")).to_have_text("10")
        r = await http.get("/api/v1/halls/demo/services/qiye/slots", params={"date": "2026-11-27"})
        assert r.json()[0]["capacity"] == 10
