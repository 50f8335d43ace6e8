"""The evaluator pad (评价器, 800×1280 and 1280×800) and the citizen's phone (390×844) in a
real browser, on the small demo and the county-size hall: nothing overflows, the five rating
buttons are equal with their labels on one line, one tap rates (with a short confirmation),
the idle pad shows who is on duty, the phone says where to go and gives the same no-show rule
as the ticket, no English on the Chinese pages, no console error. SQLite only.
Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.big_halls import (
    COUNTY_PASSWORD,
    county_kiosk_key,
    county_pad_key,
    served_ticket,
)
from tests.support.browser import SHOTS, wait_until
from tests.support.dbs import DEMO_PASSWORD, KIOSK_KEY
from tests.support.device_checks import assert_fits, english_words, watch
from window_service.seed import pad_key

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 800, "height": 1280}
LANDSCAPE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

HALLS = {
    # hall: (service, staff, password, kiosk key, pad key of window 1)
    "demo": ("hukou", "w1", DEMO_PASSWORD, KIOSK_KEY, pad_key(KIOSK_KEY, 1)),
    "county": ("hukou", "county-w1", COUNTY_PASSWORD, county_kiosk_key(), county_pad_key(1)),
}


async def _five_equal_buttons(page: Any) -> None:
    boxes = await page.evaluate(
        """() => Array.from(document.querySelectorAll('#pad-rating .pr-level')).map(b => {
            const r = b.getBoundingClientRect(), l = b.querySelector('.pr-label');
            return {w: r.width, h: r.height, right: r.right, labelW: l.scrollWidth,
                    labelH: l.getBoundingClientRect().height,
                    font: parseFloat(getComputedStyle(l).fontSize), text: l.textContent};
        })"""
    )
    assert [b["text"] for b in boxes] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert max(b["w"] for b in boxes) - min(b["w"] for b in boxes) < 1, boxes
    assert max(b["h"] for b in boxes) - min(b["h"] for b in boxes) < 1, boxes
    for b in boxes:
        assert b["labelH"] < 1.6 * b["font"], b  # one line, never vertical text
        assert b["labelW"] <= b["w"], b
        assert b["font"] >= 18, b
        assert b["right"] <= page.viewport_size["width"], b


@pytest.mark.parametrize("hall", ["demo", "county"])
async def test_pad_in_both_orientations(base: str, browser: Any, hall: str) -> None:
    service, staff, password, kiosk_key, pad = HALLS[hall]
    async with httpx.AsyncClient(base_url=base, timeout=20) as api:
        pages = []
        for name, view in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
            context = await browser.new_context(viewport=view)
            page = await context.new_page()
            problems = watch(page)
            await page.clock.install()
            await page.goto(f"{base}/pad/{hall}/1#key={pad}")
            # nothing finished yet: a normal answer, the idle screen, no error in the console
            await page.wait_for_selector("#pad-idle:not([hidden])")
            await wait_until(page, "window.evaluatorPad.stream.connected")
            await assert_fits(page)
            pages.append((name, context, page, problems))

        ticket = await served_ticket(api, hall, service, staff, password, kiosk_key, 1)
        for name, _, page, _ in pages:
            await page.wait_for_selector("#pad-finished:not([hidden]) #pad-rating .pr-level")
            await page.wait_for_selector("#pad-qr svg")
            await assert_fits(page)
            await _five_equal_buttons(page)
            assert await english_words(page) == []
            await page.screenshot(path=str(SHOTS / f"pad-{hall}-{name}.png"))

        # one tap rates: a short confirmation, sent by itself after a few seconds
        name, _, page, _ = pages[0]
        await page.click("#pad-rating .pr-level[data-rating='4']")
        await page.wait_for_selector(".pr-confirm:not([hidden])")
        assert "满意" in await page.inner_text(".pr-chosen")
        await assert_fits(page)
        await page.screenshot(path=str(SHOTS / f"pad-{hall}-confirm.png"))
        await page.clock.fast_forward(6000)
        await page.wait_for_selector(".pr-thanks")
        rated = (await api.get(f"/api/v1/track/{ticket['track_token']}/feedback")).json()
        assert rated["feedback"]["rating"] == 4
        # a bad rating on the other pad: tags to tick, and still one screen
        name, _, page, _ = pages[1]
        await page.click("#pad-rating .pr-level[data-rating='1']")
        await page.wait_for_selector(".pr-confirm.pr-bad .pr-tag")
        await assert_fits(page)
        await page.screenshot(path=str(SHOTS / f"pad-{hall}-bad.png"))
        await page.click(".pr-undo")
        assert await page.is_hidden(".pr-confirm")

        # back to idle: the staff member on duty, with 工号
        for name, context, page, problems in pages:
            await page.clock.fast_forward(95_000)
            await page.wait_for_selector("#pad-idle:not([hidden]) #pad-duty:not([hidden])")
            assert (await page.inner_text("#pad-duty-no")).startswith("工号：")
            assert await page.inner_text("#pad-duty-name")
            await assert_fits(page)
            assert await english_words(page) == []
            await page.screenshot(path=str(SHOTS / f"pad-{hall}-idle-{name}.png"))
            assert problems == []
            await context.close()


async def _phone(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    problems = watch(page)
    await page.goto(url)
    await wait_until(page, "window.Track && window.Track.ticket")
    return context, page, problems


async def _chinese_only(page: Any) -> None:
    # the language switch names English in English; nothing else may be
    assert [w for w in await english_words(page) if w != "English"] == []


@pytest.mark.parametrize("hall", ["demo", "county"])
async def test_phone_where_to_go_and_rating(base: str, browser: Any, hall: str) -> None:
    service, staff, password, kiosk_key, _ = HALLS[hall]
    async with httpx.AsyncClient(base_url=base, timeout=20) as api:
        waiting = (
            await api.post(
                f"/api/v1/halls/{hall}/tickets",
                json={"service": "shebao" if hall == "demo" else "hunyin"},
                headers={"X-Device-Key": kiosk_key},
            )
        ).json()
        context, page, problems = await _phone(browser, waiting["track_url"])
        await page.wait_for_selector("#where:not([hidden])")
        where = await page.inner_text("#where")
        assert "号窗口" in where
        if hall == "county":
            assert "二楼" in where  # 婚姻登记 is upstairs
        # one rule for a missed call, the same words as on the ticket
        assert "过号后请重新取号" in await page.inner_text("#rule-note")
        await assert_fits(page)
        await _chinese_only(page)
        await page.screenshot(path=str(SHOTS / f"track-{hall}.png"))
        assert problems == []
        await context.close()

        served = await served_ticket(api, hall, service, staff, password, kiosk_key, 1)
        context, page, problems = await _phone(browser, served["track_url"])
        await page.wait_for_selector("#rate:not([hidden]) .rating-level")
        await wait_until(page, "document.querySelectorAll('#rating-tag-list label').length > 0")
        await page.click(".rating-level[data-rating='1']")  # 非常不满意: tags and contact appear
        await page.wait_for_selector("#rating-contact-row:not([hidden])")
        await page.wait_for_selector("#rating-tag-list label")
        await assert_fits(
            page, height=False
        )  # width stays 390: no zooming out (it may scroll down)
        await page.locator("#rating-tag-list label").first.click()
        await page.screenshot(path=str(SHOTS / f"track-rating-bad-{hall}.png"), full_page=True)
        submit = page.locator("#rating-submit")
        box = await submit.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        await submit.click()
        await page.wait_for_selector("#rating-thanks")
        await _chinese_only(page)
        assert problems == []
        await context.close()
