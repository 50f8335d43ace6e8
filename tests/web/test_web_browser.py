"""The window terminal and the citizen's tracking page in headless Chromium, against a live server.

w1 signs in, a citizen takes a ticket at the kiosk, the ticket appears in w1's waiting list without
a reload, F1 calls it, the citizen's phone page says which window to go to, F3/F4 finish it.
Screenshots go to docs/screenshots/ (terminal 1280×800, tracking page on a 390×844 phone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import SHOTS
from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def kiosk_ticket(server: LiveServer, service: str = "hukou", **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as c:
        response = await c.post(
            "/api/v1/halls/demo/tickets", json={"service": service, **body}, headers=KIOSK
        )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_terminal_calls_and_the_phone_follows(
    live_server: LiveServer, browser: Browser, backend: str
) -> None:
    staff = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    terminal = await staff.new_page()
    await terminal.goto(f"{live_server.url}/terminal")
    # Not signed in: the sign-in page, then back to the terminal.
    await expect(terminal.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await terminal.get_by_label("用户名").fill("w1")
    await terminal.get_by_label("密码").fill(DEMO_PASSWORD)
    await terminal.get_by_role("button", name="登录").click()
    await terminal.wait_for_url("**/terminal")
    await expect(terminal.locator("#conn")).to_have_text("实时连接正常")
    await expect(terminal.locator("#current-number")).to_have_text("—")

    first = await kiosk_ticket(live_server)
    # Live: the new ticket shows in the waiting list without a reload.
    await expect(terminal.locator("#queue .q-number")).to_have_text([first["number"]])
    await kiosk_ticket(live_server)
    await kiosk_ticket(live_server, "budongchan")  # not window 1's service
    await expect(terminal.locator("#queue-count")).to_have_text("2")

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    citizen = await phone.new_page()
    await citizen.goto(first["track_url"])
    await expect(citizen.locator("#conn")).to_have_text("实时更新中")
    await expect(citizen.locator("#ahead")).to_have_text("0")
    await expect(citizen.locator("#status")).to_have_text("等候中")

    # the terminal takes F1 once the last action has settled (the call button is enabled)
    await expect(terminal.locator('[data-action="call"]')).to_be_enabled()
    await terminal.keyboard.press("F1")  # 叫号
    await expect(terminal.locator("#current-number")).to_have_text(first["number"])
    await expect(terminal.locator("#current-status")).to_have_text("已叫号")
    await expect(terminal.locator("#queue .q-number")).to_have_text(["A002"])
    await expect(citizen.locator("#callout")).to_have_text("请到1号窗口办理")

    await expect(terminal.locator('[data-action="recall"]')).to_be_enabled()
    await terminal.keyboard.press("F2")  # 重呼
    await expect(terminal.locator("#recall-count")).to_have_text("(1/5)")
    if backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        await terminal.screenshot(path=str(SHOTS / "terminal.png"))
        await citizen.screenshot(path=str(SHOTS / "tracking.png"))

    await expect(terminal.locator('[data-action="start"]')).to_be_enabled()
    await terminal.keyboard.press("F3")  # 开始办理
    await expect(terminal.locator("#current-status")).to_have_text("办理中")
    await expect(citizen.locator("#callout")).to_have_text("正在1号窗口办理")
    # F4 is enabled once the start's answer is in (the event that shows 办理中 may come first)
    await expect(terminal.locator('[data-action="finish"]')).to_be_enabled()
    await terminal.keyboard.press("F4")  # 办结 → choose the outcome
    await expect(terminal.locator("#finish-dialog")).to_be_visible()
    await terminal.keyboard.press("1")  # 办结 (completed)
    await expect(terminal.locator("#current-number")).to_have_text("—")
    await expect(citizen.locator("#status")).to_have_text("已办结")

    # the terminal takes F1 once the last action has settled (the call button is enabled)
    await expect(terminal.locator('[data-action="call"]')).to_be_enabled()
    await terminal.keyboard.press("F1")
    await expect(terminal.locator("#current-number")).to_have_text("A002")
    # A refusal from the server (409) is shown in Chinese, e.g. finishing a ticket not yet served.
    # (through the terminal's own modules, as a page script would import them)
    await terminal.evaluate(
        "Promise.all([import('/static/terminal.js'), import('/static/app.js')]).then("
        "([{ Terminal }, { api }]) => Terminal.run(() => api('POST', '/api/v1/tickets/'"
        " + Terminal.state.current.id + '/finish', {outcome: 'completed'})))"
    )
    await expect(terminal.locator("#flash")).to_contain_text("不能办结")

    await expect(terminal.locator('[data-action="return"]')).to_be_enabled()
    await terminal.keyboard.press("F7")  # 回队: A002 waits again, keeping its place
    await expect(terminal.locator("#current-number")).to_have_text("—")
    await expect(terminal.locator("#queue .q-number")).to_have_text(["A002"])
    # the terminal takes F1 once the last action has settled (the call button is enabled)
    await expect(terminal.locator('[data-action="call"]')).to_be_enabled()
    await terminal.keyboard.press("F1")
    await expect(terminal.locator("#current-number")).to_have_text("A002")
    await expect(terminal.locator('[data-action="transfer"]')).to_be_enabled()
    await terminal.keyboard.press("F8")  # 转移 → choose the service
    await expect(terminal.locator("#transfer-dialog")).to_be_visible()
    await terminal.locator('#transfer-services [data-service="budongchan"]').click()
    await expect(terminal.locator("#current-number")).to_have_text("—")
    await expect(terminal.locator("#queue-empty")).to_be_visible()  # now waits for windows 3–4

    third = await kiosk_ticket(live_server)
    await expect(terminal.locator("#queue .q-number")).to_have_text([third["number"]])
    # the terminal takes F1 once the last action has settled (the call button is enabled)
    await expect(terminal.locator('[data-action="call"]')).to_be_enabled()
    await terminal.keyboard.press("F1")
    await expect(terminal.locator("#current-number")).to_have_text(third["number"])
    await expect(terminal.locator('[data-action="no-show"]')).to_be_enabled()
    await terminal.keyboard.press("F5")  # 过号 asks first: nothing happens yet
    await expect(terminal.locator("#no-show-label")).to_have_text("再按 F5 确认过号")
    await terminal.keyboard.press("Escape")  # changed one's mind
    await expect(terminal.locator("#no-show-label")).to_have_text("过号")
    await expect(terminal.locator("#current-number")).to_have_text(third["number"])
    await terminal.keyboard.press("F5")
    await terminal.keyboard.press("F5")  # the second press confirms
    await expect(terminal.locator("#current-number")).to_have_text("—")
    await expect(terminal.locator("#flash")).to_contain_text("已标记过号")

    await expect(terminal.locator('[data-action="pause"]')).to_be_enabled()
    await terminal.keyboard.press("F9")  # 暂停
    await expect(terminal.locator("#window-status")).to_have_text("暂停中")
    await expect(terminal.locator('[data-action="call"]')).to_be_disabled()
    # the terminal takes F9 again once the pause has settled (the button is enabled)
    await expect(terminal.locator('[data-action="pause"]')).to_be_enabled()
    await terminal.keyboard.press("F9")  # 恢复
    await expect(terminal.locator("#window-status")).to_have_text("服务中")
    await staff.close()
    await phone.close()


async def test_terminal_reconnects_after_the_server_restarts(
    db_url: str, tmp_path: Path, browser: Browser, backend: str
) -> None:
    from tests.support.server import start_server

    if backend != "sqlite":
        pytest.skip("the reconnect path does not depend on the database")
    server = start_server(db_url, tmp_path)
    try:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        await page.goto(f"{server.url}/login")
        await page.get_by_label("用户名").fill("w1")
        await page.get_by_label("密码").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator("#conn")).to_have_text("实时连接正常")
        server.stop()
        await expect(page.locator("#conn")).to_have_text("连接中断，正在重连…")
        server = start_server(db_url, tmp_path, port=server.port)
        await kiosk_ticket(server)
        await expect(page.locator("#conn")).to_have_text("实时连接正常", timeout=20000)
        await expect(page.locator("#queue .q-number")).to_have_text(["A001"])
        await context.close()
    finally:
        server.stop()
