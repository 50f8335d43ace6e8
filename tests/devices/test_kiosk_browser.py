"""The kiosk (取号机, 1080×1920) in a real browser on the small demo, the county-size hall
(24 queues, 12 departments, 3 zones) and a 40-queue hall: it fits the screen, the green
channel is on the first screen, a ticket is at most two taps away, 适老模式 makes everything
bigger and still fits, and after a network blip it gets its ticket by itself, with no tap
and no second ticket. SQLite only: the page does not depend on the database.
Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.big_halls import BIG_KIOSK_KEY, county_kiosk_key
from tests.support.browser import SHOTS, wait_until
from tests.support.dbs import KIOSK_KEY
from tests.support.device_checks import assert_fits, english_words, on_first_screen, watch

pytestmark = pytest.mark.browser
KIOSK_VIEW = {"width": 1080, "height": 1920}


async def _open(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(viewport=KIOSK_VIEW)
    page = await context.new_page()
    problems = watch(page)
    await page.goto(url)
    await page.wait_for_selector("#screen-start:not([hidden]) #services > *")
    return context, page, problems


async def _check_start_screen(page: Any) -> None:
    await assert_fits(page)
    assert await on_first_screen(page, "#green")
    assert await on_first_screen(page, "#green-options button[data-priority=elderly]")
    assert await on_first_screen(page, "#checkin-open")
    last = page.locator("#services > :not([hidden])").last
    box = await last.bounding_box()
    assert box is not None and box["y"] + box["height"] <= KIOSK_VIEW["height"]
    assert await english_words(page) == []


async def test_small_hall_one_tap_and_recovery_from_a_network_blip(base: str, browser: Any) -> None:
    context, page, problems = await _open(browser, f"{base}/kiosk/demo?print=0#key={KIOSK_KEY}")
    assert await page.get_attribute("#services", "data-mode") == "flat"
    await _check_start_screen(page)
    await page.screenshot(path=str(SHOTS / "kiosk.png"))

    # The network drops as the citizen taps: the kiosk says so and keeps trying by itself …
    await context.set_offline(True)
    await page.click("button[data-service=hukou]")  # one tap
    await wait_until(page, "document.getElementById('busy-text').textContent.includes('网络异常')")
    await wait_until(page, "!document.getElementById('k-offline').hidden")
    await assert_fits(page)
    assert await english_words(page) == []
    await page.screenshot(path=str(SHOTS / "kiosk-offline.png"))
    # … and when it is back, the ticket comes out without anyone touching the screen.
    await context.set_offline(False)
    await wait_until(page, "document.getElementById('t-number').textContent === 'A001'", 20)
    assert await page.is_visible("#screen-ticket")
    assert await page.is_hidden("#k-offline")
    assert "过号后请重新取号" in await page.inner_text("#t-foot")
    async with httpx.AsyncClient(base_url=base) as api:
        services = {s["code"]: s for s in (await api.get("/api/v1/halls/demo/services")).json()}
    assert services["hukou"]["waiting"] == 1  # one ticket, whatever the retries
    await assert_fits(page)
    # "net::ERR_INTERNET_DISCONNECTED" is the browser reporting the blip itself, not the page
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
    await context.close()


async def test_county_hall_departments_first_two_taps(base: str, browser: Any) -> None:
    context, page, problems = await _open(
        browser, f"{base}/kiosk/county?print=0#key={county_kiosk_key()}"
    )
    assert await page.get_attribute("#services", "data-mode") == "groups"
    assert await page.locator("#services .k-group").count() == 12
    await _check_start_screen(page)
    assert "一楼A区" in await page.inner_text("#services")  # where each department sits
    await page.screenshot(path=str(SHOTS / "kiosk-county.png"))

    await page.click("#services .k-group >> nth=0")  # tap 1: the department
    assert await page.get_attribute("#services", "data-mode") == "group"
    await _check_start_screen(page)
    assert await page.is_visible("#menu-back")
    await page.screenshot(path=str(SHOTS / "kiosk-county-department.png"))
    await page.click("#services .k-service >> nth=0")  # tap 2: the ticket
    await page.wait_for_selector("#screen-ticket:not([hidden])")
    assert (await page.inner_text("#t-number")).startswith("A")
    assert "一楼A区" in await page.inner_text("#t-zone")
    await assert_fits(page)
    assert await english_words(page) == []

    # 适老模式: bigger buttons, still all on the screen, the green channel still first
    await page.click("#ticket-done")
    await page.click("#elder-toggle")
    assert await page.get_attribute("#elder-toggle", "aria-pressed") == "true"
    await _check_start_screen(page)
    size = await page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.k-group-name')).fontSize)"
    )
    assert size >= 60
    assert await page.is_hidden("#pager")  # still two taps: every department on one screen
    await page.screenshot(path=str(SHOTS / "kiosk-county-elder.png"))
    await page.click("#services .k-group >> nth=3")
    await _check_start_screen(page)
    await page.screenshot(path=str(SHOTS / "kiosk-county-elder-department.png"))
    assert problems == []
    await context.close()


async def test_forty_queues_fit(base: str, browser: Any) -> None:
    context, page, problems = await _open(browser, f"{base}/kiosk/big?print=0#key={BIG_KIOSK_KEY}")
    assert await page.locator("#services .k-group").count() == 20
    await _check_start_screen(page)
    await page.screenshot(path=str(SHOTS / "kiosk-40.png"))
    await page.click("#elder-toggle")
    await _check_start_screen(page)
    await page.screenshot(path=str(SHOTS / "kiosk-40-elder.png"))
    assert problems == []
    await context.close()
