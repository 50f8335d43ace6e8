"""The tracking page's alerts (到号提醒) in headless Chromium against a real server (hall clock
fixed): book on the phone at 390×844, check in at the kiosk (1080×1920) on time, the booked
ticket called first at window 1 and its phone alerted; a walk-in's phone alerted at 3 ahead,
then — asleep and offline while it is called — alerted once on waking, never twice.

navigator.vibrate and the Notification API are stubbed by an init script that records their
calls; the page keeps its real CSP.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.appointments.test_appointments_browser import serve
from tests.support.browser import wait_until
from tests.support.client import KIOSK, login
from tests.support.dbs import KIOSK_KEY
from tests.support.settings import SHANGHAI
from window_service.clock import FixedClock

pytestmark = pytest.mark.browser

API = "/api/v1"
PHONE = {"width": 390, "height": 844}

#: Records vibrations and notifications; lets the test put the page "to sleep" (hidden).
STUBS = """
window.__alerts = { vibrate: [], notes: [] };
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true,
  value: function (pattern) { window.__alerts.vibrate.push(pattern); return true; }
});
function FakeNotification(title, options) {
  window.__alerts.notes.push([title, (options || {}).body || ""]);
}
FakeNotification.permission = "default";
FakeNotification.requestPermission = function (callback) {
  FakeNotification.permission = "granted";
  if (callback) callback("granted");
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
window.__asleep = false;
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get: function () { return window.__asleep; }
});
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get: function () { return window.__asleep ? "hidden" : "visible"; }
});
"""


async def phone_page(browser: Browser) -> Page:
    page = await browser.new_page(viewport=PHONE)
    await page.add_init_script(STUBS)
    return page


async def counts(page: Page) -> tuple[int, int]:
    vibrate, notes = await page.evaluate(
        "[window.__alerts.vibrate.length, window.__alerts.notes.length]"
    )
    return int(vibrate), int(notes)


async def next_out(http: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, Any]:
    """Call the next ticket at window 1 and mark it no-show, freeing the window."""
    called = await http.post(f"{API}/windows/1/call-next", headers=staff)
    assert called.status_code == 200, called.text
    r = await http.post(f"{API}/tickets/{called.json()['id']}/no-show", headers=staff)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = called.json()
    return data


async def test_booked_ticket_called_first_and_phones_alerted(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    clock = FixedClock(datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI))
    async with serve(db_url, tmp_path, clock) as url, httpx.AsyncClient(base_url=url) as http:
        # The booked citizen books on the phone.
        booked = await phone_page(browser)
        await booked.goto(f"{url}/book/demo")
        await booked.select_option("#book-service", "hukou")
        await booked.select_option("#book-day", "2026-11-26")
        slot = booked.locator('.slot[data-start="09:00"]')
        await expect(slot).to_be_enabled()
        await slot.click()
        await booked.fill("#book-name", "张三")
        await booked.fill("#book-phone", "13812345678")
        await booked.click("#book-submit")
        await expect(booked.locator("#status")).to_have_text("已预约")
        code = (await booked.locator("#code").text_content() or "").strip()

        # Five walk-ins; the last one follows its ticket on its phone.
        walk_ins = []
        for _ in range(5):
            r = await http.post(
                f"{API}/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
            )
            walk_ins.append(r.json())
        walker = await phone_page(browser)
        await walker.goto(f"{url}/t/{walk_ins[-1]['track_token']}")
        await expect(walker.locator("#ahead")).to_have_text("4")
        await expect(walker.locator("#alerts-enable")).to_have_text("开启提醒")
        await walker.click("#alerts-enable")
        await expect(walker.locator("#alerts-enable")).to_have_text("提醒已开启")
        assert await walker.evaluate("Notification.permission") == "granted"
        await expect(walker.locator("#alert")).to_be_hidden()

        # On time at the kiosk: the booked ticket goes before the walk-ins.
        clock.set(datetime(2026, 11, 26, 8, 40, tzinfo=SHANGHAI))
        kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920})
        await kiosk.goto(f"{url}/kiosk/demo?key={KIOSK_KEY}&print=0")
        await kiosk.click("#checkin-open")
        await kiosk.fill("#checkin-code", code)
        await kiosk.click('#checkin-form button[type="submit"]')
        await expect(kiosk.locator("#t-green")).to_contain_text("预约")
        number = (await kiosk.locator("#t-number").text_content() or "").strip()
        await kiosk.close()
        await expect(walker.locator("#ahead")).to_have_text("5")

        # The booked citizen opens the ticket from the confirmation page and turns alerts on.
        await booked.reload()
        await expect(booked.locator("#status")).to_have_text("已签到")
        await booked.click(f'a[href^="/t/"]:has-text("{number}")')
        await expect(booked.locator("#number")).to_have_text(number)
        # Next in line already: the banner (and a vibration) even before alerts are turned on.
        await expect(booked.locator("#alert")).to_contain_text("前面还有0人")
        await booked.click("#alerts-enable")

        staff = await login(http, "w1")
        called = await http.post(f"{API}/windows/1/call-next", headers=staff)
        assert called.status_code == 200 and called.json()["number"] == number  # called first
        await expect(booked.locator("#alert")).to_have_text("轮到您了！请到1号窗口办理")
        await expect(booked.locator("#callout")).to_contain_text("1号窗口")
        await wait_until(booked, "window.__alerts.notes.length === 1")
        assert (await booked.evaluate("window.__alerts.notes[0]")) == [
            f"已叫号：{number}",
            "请到1号窗口办理",
        ]
        assert await counts(booked) == (2, 1)
        assert await booked.evaluate("document.documentElement.scrollWidth") <= 390
        await http.post(f"{API}/tickets/{called.json()['id']}/start", headers=staff)
        await http.post(
            f"{API}/tickets/{called.json()['id']}/finish",
            json={"outcome": "completed"},
            headers=staff,
        )
        await expect(booked.locator("#alerts")).to_be_hidden()  # over: nothing left to alert

        # The walk-in: 4 ahead, no alert; 3 ahead, the alert — once.
        await expect(walker.locator("#ahead")).to_have_text("4")
        await expect(walker.locator("#alert")).to_be_hidden()
        assert await counts(walker) == (0, 0)
        await next_out(http, staff)
        await expect(walker.locator("#alert")).to_have_text("前面还有3人，请到等候区留意叫号")
        await wait_until(walker, "window.__alerts.notes.length === 1")
        assert await counts(walker) == (1, 1)
        assert "快到您了" in await walker.evaluate("window.__alerts.notes[0][0]")
        assert await walker.evaluate("document.documentElement.scrollWidth") <= 390
        await next_out(http, staff)
        await expect(walker.locator("#ahead")).to_have_text("2")
        assert await counts(walker) == (1, 1)  # not again at 2 ahead

        # The phone sleeps (hidden, offline) while its ticket is called ...
        await walker.evaluate(
            "window.__asleep = true; document.dispatchEvent(new Event('visibilitychange'))"
        )
        await walker.context.set_offline(True)
        await next_out(http, staff)
        await next_out(http, staff)
        called = await http.post(f"{API}/windows/1/call-next", headers=staff)
        assert called.json()["number"] == walk_ins[-1]["number"]
        await walker.wait_for_timeout(1000)
        assert await walker.get_attribute("#alert", "data-kind") == "ahead"
        # ... and wakes: the missed alert fires once.
        await walker.context.set_offline(False)
        await walker.evaluate(
            "window.__asleep = false; document.dispatchEvent(new Event('visibilitychange'))"
        )
        await expect(walker.locator("#alert")).to_have_text("轮到您了！请到1号窗口办理")
        await wait_until(walker, "window.__alerts.notes.length === 2")
        await walker.evaluate(
            "document.dispatchEvent(new Event('visibilitychange'));"
            "window.dispatchEvent(new Event('online'))"
        )
        await walker.wait_for_timeout(1500)
        assert await counts(walker) == (2, 2)  # never twice
        await walker.reload()
        await expect(walker.locator("#status")).to_have_text("已叫号")
        await walker.wait_for_timeout(500)
        assert await counts(walker) == (0, 0)  # the reloaded page remembers it fired

        # The English page is all English.
        await walker.goto(f"{url}/t/{walk_ins[-1]['track_token']}?lang=en")
        await expect(walker.locator("#alerts-enable")).to_have_text("Turn on alerts")
        await expect(walker.locator("#alerts-note")).to_contain_text("your phone rings")
