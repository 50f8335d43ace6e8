"""好差评 and the notice board in headless Chromium against a live server (SQLite only).

The citizen rates from the phone page (/t/{token}) and from the window's evaluator pad; the
office publishes the month and the notice board (/board/demo) shows the published stars.
Screenshot: docs/screenshots/board.png (1920×1080).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import SHOTS
from tests.support.dbs import DEMO_PASSWORD
from tests.support.ratings import add_evaluator, bulk_ratings, served_ticket
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser

PAD_KEY = "evaluator-browser-test-key-w1"


@pytest.fixture
def server(db_url: str, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    if backend != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


async def test_rate_on_phone_and_pad_then_board_shows_published_stars(
    server: LiveServer, browser: Browser, db_url: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as c:
        # -- the phone -------------------------------------------------------------------
        ticket = await served_ticket(c)
        phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = await phone.new_page()
        await page.goto(f"{server.url}/t/{ticket['track_token']}")
        form = page.locator("#rating-form")
        await expect(form).to_be_visible()
        await expect(page.locator(".rating-level .rl-label")).to_have_text(
            ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        )
        await page.get_by_role("radio", name="满意", exact=True).click()
        await page.locator("#rating-tag-list label", has_text="效率").click()
        await page.locator("#rating-comment").fill("很快就办好了")
        await page.get_by_role("button", name="提交评价").click()
        await expect(page.locator("#rating-thanks")).to_contain_text("感谢您的评价")
        await expect(page.locator("#rate")).to_be_hidden()
        state = (await c.get(f"/api/v1/track/{ticket['track_token']}/feedback")).json()
        assert state["feedback"]["rating"] == 4 and state["feedback"]["tags"] == ["效率"]
        # Reloading shows it was rated; a second rating is refused (in Chinese).
        await page.reload()
        await expect(page.locator("#rating-thanks")).to_contain_text("您已评价本次服务")
        again = await c.post(f"/api/v1/track/{ticket['track_token']}/feedback", json={"rating": 5})
        assert "只能评价一次" in again.json()["error"]["message"]
        await phone.close()

        # -- the evaluator pad of window 1 --------------------------------------------------
        await add_evaluator(db_url, 1, key=PAD_KEY)
        pad_ticket = await served_ticket(c)
        tablet = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        pad = await tablet.new_page()
        await pad.goto(f"{server.url}/pad/demo/1?key={PAD_KEY}")
        await expect(pad.locator("#pad-ticket")).to_have_text(pad_ticket["number"])
        await expect(pad.locator(".pr-level")).to_have_count(5)
        await pad.get_by_role("radio", name="非常满意").click()
        await pad.get_by_role("button", name="态度").click()
        await pad.get_by_role("button", name="提交评价").click()
        await expect(pad.locator(".pr-thanks")).to_have_text("感谢您的评价！")
        rated = (await c.get(f"/api/v1/track/{pad_ticket['track_token']}/feedback")).json()
        assert rated["feedback"]["rating"] == 5 and rated["feedback"]["tags"] == ["态度"]
        await tablet.close()

        # -- publish a month whose appeal window is over; the board shows its stars --------
        # (The server runs on the system clock: a month about two months back has ended and
        # its appeal window has passed, whatever the real date is.)
        # Noon in the hall, so the hall's day and the UTC date of every row are the same day.
        hall_day = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=62)
        then = hall_day.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
        await bulk_ratings(db_url, 2, [5] * 40 + [4] * 10, then)
        await bulk_ratings(db_url, 3, [2] * 20 + [3] * 20, then)
        local = then.astimezone(ZoneInfo("Asia/Shanghai"))
        period = f"{local.year:04d}-{local.month:02d}"
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "office", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        published = await c.post(
            "/api/v1/halls/demo/ratings/publish",
            json={"period": period},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert published.status_code == 201, published.text
        stars = {
            r["key"]: r["stars"]
            for r in (
                await c.get(f"/api/v1/halls/demo/ratings?period={period}&subject=staff")
            ).json()
        }
    tv = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    board = await tv.new_page()
    await board.goto(f"{server.url}/board/demo")
    await expect(board.locator(".board-period")).to_contain_text("星级评定（已公示）")
    for username in ("w2", "w3"):
        await expect(
            board.locator(f'.person[data-username="{username}"] .stars')
        ).to_have_attribute("data-stars", str(stars[username]))
    # w1 was rated this month only: no star in the published month.
    assert "w1" not in stars
    await expect(board.locator('.person[data-username="w1"] .stars')).to_have_text("暂无评定")
    await expect(board.locator(".list.red")).to_contain_text("王芳")
    await expect(board.locator(".list.black")).to_contain_text("李娜")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await board.screenshot(path=str(SHOTS / "board.png"))
    await tv.close()

    # -- the inspector records a visit on the scoring sheet; a low score issues a notice -------
    office = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = await office.new_page()
    await desk.goto(f"{server.url}/office/inspections")
    await desk.get_by_label("用户名").fill("office")
    await desk.get_by_label("密码").fill(DEMO_PASSWORD)
    await desk.get_by_role("button", name="登录").click()
    await desk.wait_for_url("**/office/inspections")
    await desk.get_by_label("在岗在位").fill("5")
    await desk.get_by_label("服务态度").fill("10")
    await expect(desk.locator("#ins-total")).to_have_text("75")
    await desk.get_by_role("button", name="保存暗访记录").click()
    await expect(desk.locator("#ins-result")).to_contain_text("已签发督查通知书")
    await desk.get_by_role("link", name="打印通知书").click()
    await expect(desk.locator(".notice-paper")).to_contain_text("低于80分的合格线")
    await office.close()
