"""The administrator's page (/office/admin) in headless Chromium, against a live server: the
forms reach the admin API (a new department, a kiosk whose key is shown once, a deactivated
staff member). Screenshot: docs/screenshots/admin.png."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Dialog, expect

from tests.support.browser import SHOTS
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def backend() -> str:
    """The page drives the same API the database tests cover on both: SQLite only (fast)."""
    return "sqlite"


async def test_admin_page_forms_reach_the_api(
    live_server: LiveServer,
    browser: Browser,
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server.url}/office/admin")
    await page.get_by_label("用户名").fill("admin")
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/office/admin")
    await expect(page.get_by_role("heading", name="大厅设置")).to_be_visible()

    departments = page.locator("#departments form").first
    await departments.locator("input[name=code]").fill("minzheng")
    await departments.locator("input[name=name]").fill("县民政局")
    await departments.get_by_role("button", name="新增部门").click()
    await expect(page.locator("#departments table")).to_contain_text("县民政局")

    devices = page.locator("#devices form")
    await devices.locator("input[name=name]").fill("二号取号机")
    await devices.get_by_role("button", name="登记设备").click()
    await expect(page.locator("#device-key")).to_be_visible()
    key = await page.locator("#device-key-value").text_content()
    assert key and len(key) >= 30
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        ticket = await c.post(
            "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers={"X-Device-Key": key}
        )
    assert ticket.status_code == 201, ticket.text
    await page.get_by_role("button", name="我已记下").click()
    await expect(page.locator("#devices table")).to_contain_text("二号取号机")

    async def reason(dialog: Dialog) -> None:
        await dialog.accept("调离岗位")

    page.once("dialog", reason)
    row = page.locator("#staff tbody tr", has_text="w2")
    await row.get_by_role("button", name="停用").click()
    await expect(row).to_contain_text("已停用")
    await page.screenshot(path=str(SHOTS / "admin.png"))
    await context.close()
