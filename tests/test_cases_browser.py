"""The terminal's case actions and the office dashboard in headless Chromium (live server).

w1 serves a ticket, accepts a case through the dialog (the receipt opens for printing), issues a
correction notice; the office dashboard, open meanwhile, shows the stopped clock without a reload.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import KIOSK, ROOT, LiveServer
from tests.dbs import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(f"{url}/login?next=/office")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()


# The browser flow runs once (SQLite); the API tests cover both databases.
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_terminal_case_actions_and_live_office(
    live_server: LiveServer, browser: Browser, backend: str
) -> None:
    url = live_server.url
    office_ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    office = await office_ctx.new_page()
    await sign_in(office, url, "office")
    await office.goto(f"{url}/office/cases")
    await expect(office.locator("#conn")).to_have_text("实时连接正常")
    await expect(office.locator("#count-stopped")).to_have_text("0")

    staff_ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    terminal = await staff_ctx.new_page()
    await sign_in(terminal, url, "w1")
    await terminal.goto(f"{url}/terminal")
    await expect(terminal.locator("#conn")).to_have_text("实时连接正常")
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
        assert r.status_code == 201
    await expect(terminal.locator("#queue-count")).to_have_text("1")
    await expect(terminal.locator("#case-accept")).to_be_disabled()
    await terminal.keyboard.press("F1")
    await expect(terminal.locator("#current-number")).to_have_text("A001")
    await terminal.keyboard.press("F3")
    await expect(terminal.locator("#case-accept")).to_be_enabled()

    await terminal.keyboard.press("F6")  # 受理办件
    dialog = terminal.locator("#case-accept-dialog")
    await dialog.get_by_label("申请人姓名").fill("张小三")
    await dialog.get_by_label("联系电话").fill("13800138000")
    async with staff_ctx.expect_page() as receipt_info:
        await dialog.get_by_role("button", name="受理并打印回执").click()
    receipt = await receipt_info.value
    await receipt.set_viewport_size({"width": 900, "height": 1100})
    await expect(receipt.locator("#receipt-no")).to_have_text(re.compile(r"DEMO-\d{8}-0001"))
    await expect(terminal.locator("#case-last-no")).to_have_text(
        await receipt.locator("#receipt-no").inner_text()
    )

    await terminal.locator("#case-correction").click()
    form = terminal.locator("#case-correction-dialog")
    await form.get_by_label("缺少的材料").fill("户口簿原件\n出生医学证明\n")
    async with staff_ctx.expect_page() as notice_info:
        await form.get_by_role("button", name="发出告知并打印").click()
    notice = await notice_info.value
    await expect(notice.locator("#materials li")).to_have_text(["户口簿原件", "出生医学证明"])
    await expect(terminal.locator("#flash")).to_contain_text("已发出补正告知")
    # The office dashboard follows live.
    await expect(office.locator("#count-stopped")).to_have_text("1")
    await expect(office.locator("#count-open")).to_have_text("1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await receipt.screenshot(path=str(SHOTS / "case-receipt.png"), full_page=True)
    await office.screenshot(path=str(SHOTS / "office-cases.png"), full_page=True)
    await office_ctx.close()
    await staff_ctx.close()
