"""The office's supervision pages in headless Chromium at 1920×1080 and 1366×768 (SQLite):
efficiency warnings proposed, issued and printed; a 12345 complaint entered against a window;
the callback phone shown only on request. Nothing cut off sideways, no console error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.device_checks import assert_fits, watch
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_url: str, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    if backend != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


async def bad_rating(c: httpx.AsyncClient, contact: str = "") -> dict[str, Any]:
    """A hukou ticket served at window 1 and rated 非常不满意 from the citizen's phone."""
    ticket = (
        await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    ).json()
    token = (
        await c.post("/api/v1/auth/token", json={"username": "w1", "password": DEMO_PASSWORD})
    ).json()["access_token"]
    w1 = {"Authorization": f"Bearer {token}"}
    windows = {w["number"]: w["id"] for w in (await c.get("/api/v1/halls/demo/windows")).json()}
    assert (await c.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)).status_code == 200
    assert (await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=w1)).status_code == 200
    done = await c.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "completed"}, headers=w1
    )
    assert done.status_code == 200
    body: dict[str, Any] = {"rating": 1, "tags": ["态度"]}
    if contact:
        body["contact"] = contact
    rated = await c.post(f"/api/v1/track/{ticket['track_token']}/feedback", json=body)
    assert rated.status_code == 201, rated.text
    return dict(ticket)


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
async def test_warnings_entries_and_callback_phone(
    server: LiveServer, browser: Browser, size: tuple[int, int]
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as c:
        await bad_rating(c, contact="13800000000")
        await bad_rating(c)
        await bad_rating(c)
    context = await browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale="zh-CN"
    )
    page = await context.new_page()
    problems = watch(page)
    await page.goto(f"{server.url}/office/warnings")
    await page.get_by_label("用户名").fill("office")
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/office/warnings")

    # 效能告诫: three 差评 of w1 this quarter propose a warning; the office issues and prints it.
    await page.get_by_role("button", name="按本季度数据提出告诫建议").click()
    row = page.locator("tr.warning-row", has_text="张伟")
    await expect(row).to_be_visible()
    await expect(row).to_have_attribute("data-status", "proposed")
    await assert_fits(page, height=False)
    await row.locator("textarea").fill("本季度三次差评均经核实")
    await row.get_by_role("button", name="下发告诫").click()
    issued = page.locator("tr.warning-row[data-status='issued']", has_text="张伟")
    await expect(issued).to_be_visible()
    await issued.get_by_role("link", name="告诫书").click()
    await expect(page.locator("#warning-paper h1")).to_contain_text("效能告诫书")
    await expect(page.locator("#warning-paper")).to_contain_text("查实差评 3 次")

    # 其他渠道评价登记: a 12345 complaint about window 5 opens a work order at once.
    await page.goto(f"{server.url}/office/rectifications")
    form = page.locator("#entry-form")
    await form.get_by_label("渠道").select_option("hotline_12345")
    await form.get_by_label("评价", exact=True).select_option("1")
    await form.get_by_label("评价对象").select_option("window")
    await form.get_by_label("对象", exact=True).fill("5")
    await form.get_by_label("渠道编号").fill("12345-0088")
    await form.get_by_label("评价内容").fill("窗口无人值守")
    await form.get_by_role("button", name="登记").click()
    await expect(page.locator(".rect", has_text="5号窗口").first).to_be_visible()
    await assert_fits(page, height=False)

    # 回访: the phone is not on the card until asked for (and the view is audited).
    card = page.locator(".rect", has_text="13800000000")
    await expect(card).to_have_count(0)
    await page.get_by_role("button", name="查看回访电话（留痕）").first.click()
    await expect(page.get_by_text("联系电话：13800000000")).to_be_visible()
    assert problems == [], problems
    await context.close()
