"""The terminal's case actions and the office dashboard in headless Chromium (live server).

w1 serves a ticket, accepts a case through the dialog (the receipt opens for printing), issues a
correction notice; the office dashboard, open meanwhile, shows the stopped clock without a reload.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.browser import SHOTS
from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


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

    await expect(terminal.locator("#window-cases-count")).to_have_text("1")
    await terminal.locator("#case-correction").click()
    form = terminal.locator("#case-correction-dialog")
    await form.get_by_label("缺少的材料").fill("户口簿原件\n出生医学证明\n")
    async with staff_ctx.expect_page() as notice_info:
        await form.get_by_role("button", name="发出告知并打印").click()
    notice = await notice_info.value
    await expect(notice.locator("#materials li")).to_have_text(["户口簿原件", "出生医学证明"])
    await expect(terminal.locator("#flash")).to_contain_text("已发出补正告知")
    # 咨询登记 on the ticket being served.
    await terminal.locator("#case-consult").click()
    consult = terminal.locator("#case-consult-dialog")
    await expect(consult.locator("#case-consult-ticket")).to_have_text("A001")
    await consult.get_by_label("咨询内容").fill("询问户口迁移所需材料")
    await consult.get_by_role("button", name="登记").click()
    await expect(terminal.locator("#flash")).to_contain_text("咨询已登记")
    # The office dashboard follows live.
    await expect(office.locator("#count-stopped")).to_have_text("1")
    await expect(office.locator("#count-open")).to_have_text("1")
    # office.* payloads reach the signed-in office's socket: the feed names the case.
    number = await receipt.locator("#receipt-no").inner_text()
    await expect(office.locator("#feed")).to_contain_text(f"补正告知（暂停计时） {number}")
    # 首问负责: w2 calls a citizen and transfers them to 不动产登记; w3's terminal shows who
    # responded first and who touched the matter.
    async with httpx.AsyncClient(base_url=url) as c:
        await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
        token = await c.post(
            "/api/v1/auth/token", json={"username": "w2", "password": DEMO_PASSWORD}
        )
        w2 = {"Authorization": f"Bearer {token.json()['access_token']}"}
        windows = {w["number"]: w["id"] for w in (await c.get("/api/v1/halls/demo/windows")).json()}
        called = await c.post(f"/api/v1/windows/{windows[2]}/call-next", headers=w2)
        assert called.status_code == 200, called.text
        moved = await c.post(
            f"/api/v1/tickets/{called.json()['id']}/transfer",
            json={"service": "budongchan"},
            headers=w2,
        )
        assert moved.status_code == 200, moved.text
    w3_ctx = await browser.new_context(locale="zh-CN")
    w3 = await w3_ctx.new_page()
    await sign_in(w3, url, "w3")
    await w3.goto(f"{url}/terminal")
    await expect(w3.locator("#queue-count")).to_have_text("1")
    await w3.keyboard.press("F1")
    await expect(w3.locator("#case-chain")).to_have_text("首问责任人：王芳 · 经手：王芳 → 李娜")
    await w3_ctx.close()

    SHOTS.mkdir(parents=True, exist_ok=True)
    await receipt.screenshot(path=str(SHOTS / "case-receipt.png"), full_page=True)
    await office.screenshot(path=str(SHOTS / "office-cases.png"), full_page=True)
    await office_ctx.close()
    await staff_ctx.close()
