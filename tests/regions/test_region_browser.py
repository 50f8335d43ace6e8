"""The region office's comparison in headless Chromium, on a city of 20 halls: it fits a
1920×1080 and a 1366×768 screen in Chinese and in English, and a hall drills down to its
statistics. Screenshots: docs/screenshots/region-1920.png, region-1366.png, region-en-1920.png,
region-hall-1920.png."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.support.browser import SHOTS
from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.regions import REGION_PASSWORD, make_regions
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def backend() -> str:
    """Layout does not depend on the database: SQLite only."""
    return "sqlite"


@pytest.fixture
async def city(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    await make_regions(db_url, more_halls=18)
    server = start_server(db_url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url) as c:
            token = (
                await c.post(
                    "/api/v1/auth/token", json={"username": "w1", "password": DEMO_PASSWORD}
                )
            ).json()["access_token"]
            w1 = {"Authorization": f"Bearer {token}"}
            for service in ("hukou", "hukou", "qiye"):
                r = await c.post(
                    "/api/v1/halls/demo/tickets", json={"service": service}, headers=KIOSK
                )
                assert r.status_code == 201, r.text
            called = await c.post("/api/v1/windows/1/call-next", headers=w1)
            assert called.status_code == 200, called.text
        yield server
    finally:
        server.stop()


async def signed_in(
    browser: Browser, server: LiveServer, size: tuple[int, int], path: str
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale="zh-CN"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{server.url}/login?next={quote(path, safe='/')}")
    await page.get_by_label("用户名").fill("xian-office")
    await page.get_by_label("密码").fill(REGION_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/region/610100"))
    return context, page, problems


async def fits(page: Page, size: tuple[int, int]) -> None:
    width, right = await page.evaluate(
        "[document.documentElement.scrollWidth,"
        " document.querySelector('table.stats').getBoundingClientRect().right]"
    )
    assert width <= size[0] and right <= size[0], (width, right, size)


async def test_city_office_compares_twenty_halls(city: LiveServer, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in ((1920, 1080), (1366, 768)):
        context, page, problems = await signed_in(browser, city, size, "/region")
        rows = page.locator("#region-table tbody tr")
        assert await rows.count() == 20
        demo = page.locator("#region-table tr[data-hall=demo] td")
        assert (await demo.nth(2).inner_text()) == "3"  # tickets
        assert "新城区" in await demo.nth(1).inner_text()
        total = page.locator("#region-total td")
        assert (await total.nth(1).inner_text()) == "3"  # the city's tickets
        await fits(page, size)
        text = await page.evaluate("document.body.innerText")
        latin = {w for w in re.findall(r"[A-Za-z]{3,}", text)} - {
            "English",
            "xian",
            "office",
            "P90",
        }
        assert not latin, sorted(latin)
        await page.screenshot(path=str(SHOTS / f"region-{size[0]}.png"), full_page=True)
        assert not problems, problems
        await context.close()

    context, page, problems = await signed_in(browser, city, (1920, 1080), "/region")
    await page.goto(f"{city.url}/region/610100?lang=en")
    heading = await page.evaluate("document.querySelector('h1').firstChild.textContent")
    assert heading.strip() == "Region comparison"
    chinese = await page.evaluate(
        "[...document.querySelectorAll('caption, th, label, button, p.muted:last-of-type')]"
        ".map(e => e.innerText).filter(t => /[\\u4e00-\\u9fff]/.test(t))"
    )
    assert not chinese, chinese
    await fits(page, (1920, 1080))
    await page.screenshot(path=str(SHOTS / "region-en-1920.png"), full_page=True)
    # another quarter, then into a hall (read-only statistics)
    await page.select_option("select[name=period]", index=12)
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"period=\d{4}-Q\d"))
    await page.get_by_role("link", name="示范县政务服务中心").click()
    await page.wait_for_url(re.compile(r"/region/610100/halls/demo\?period="))
    assert await page.locator("#region-hall-table tbody tr").count() >= 1
    assert await page.locator("form[method=post]:not([action='/logout'])").count() == 0
    await page.goto(f"{city.url}/region/610100/halls/demo?lang=zh")
    await fits(page, (1920, 1080))
    await page.screenshot(path=str(SHOTS / "region-hall-1920.png"), full_page=True)
    assert not problems, problems
    await context.close()
