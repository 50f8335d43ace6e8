"""The office decides held ratings and publishes a correction (更正) in its pages; the notice
board shows the correction's reason (headless Chromium against a live server, SQLite only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Dialog, expect

from tests.support.dbs import DEMO_PASSWORD
from tests.support.ratings import add_evaluator, bulk_ratings, served_ticket
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser

PAD_KEY = "evaluator-browser-test-key-verdicts"


@pytest.fixture
def server(db_url: str, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    if backend != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


async def test_office_reviews_held_ratings_and_corrects_a_published_month(
    server: LiveServer, browser: Browser, db_url: str
) -> None:
    then = datetime.now(UTC) - timedelta(days=62)
    local = then.astimezone(ZoneInfo("Asia/Shanghai"))
    period = f"{local.year:04d}-{local.month:02d}"
    async with httpx.AsyncClient(base_url=server.url) as c:
        await add_evaluator(db_url, 1, key=PAD_KEY)
        for _ in range(5):
            ticket = await served_ticket(c)
            rated = await c.post(
                f"/api/v1/track/{ticket['track_token']}/feedback",
                json={"rating": 5},
                headers={"X-Device-Key": PAD_KEY},
            )
            assert rated.status_code == 201, rated.text
        await bulk_ratings(db_url, 2, [5] * 40, then)
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "office", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        office_api = {"Authorization": f"Bearer {token}"}
        published = await c.post(
            "/api/v1/halls/demo/ratings/publish", json={"period": period}, headers=office_api
        )
        assert published.status_code == 201, published.text

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{server.url}/office/rectifications")
    await page.get_by_label("用户名").fill("office")
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/office/rectifications")
    flagged = page.locator("#flagged-list tr")
    await expect(flagged).to_have_count(5)
    await expect(flagged.first).to_contain_text("待复核（暂不计入）")
    await expect(flagged.first).to_contain_text("同一评价器")
    await flagged.first.get_by_placeholder("复核意见").fill("调取监控，系群众本人评价")
    await flagged.first.get_by_role("button", name="确认有效").click()
    await expect(page.locator("#flagged-list")).to_contain_text(
        "已确认有效：调取监控，系群众本人评价"
    )
    await expect(page.get_by_role("button", name="确认有效")).to_have_count(4)

    # The ratings page: publications with their versions, and a correction with its reason.
    await page.goto(f"{server.url}/office/ratings")
    await expect(page.locator("#publications tbody tr")).to_have_count(1)
    form = page.locator("#correct-form")
    await form.locator("input[name=period]").fill(period)
    reason = "2号窗口评价数据导入有误，经核实予以更正"
    await form.locator("input[name=reason]").fill(reason)

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.once("dialog", accept)
    await form.get_by_role("button", name="发布更正").click()
    rows = page.locator("#publications tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("第2版")
    await expect(rows.first).to_contain_text(reason)
    await expect(rows.nth(1)).to_contain_text("已被更正")
    await context.close()

    tv = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    board = await tv.new_page()
    await board.goto(f"{server.url}/board/demo")
    await expect(board.locator(".board-correction")).to_contain_text(reason)
    await expect(board.locator(".board-correction")).to_contain_text("更正")
    await tv.close()
