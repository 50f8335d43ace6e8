"""The hall devices in a real browser against a live server (SQLite only: the pages do not
depend on the database; the API under them is tested on both in test_devices.py).

One flow, as in a hall: a citizen takes a ticket at the kiosk (a double tap and a lost
response still make one ticket), window 1 calls it and the hall display shows it and queues
the announcement, the window finishes it and the evaluator pad shows it with its QR; then the
server restarts and the display, untouched, reconnects and shows the next call.
Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import SHOTS, wait_until
from tests.support.client import login
from tests.support.dbs import KIOSK_KEY
from tests.support.server import LiveServer, start_server
from window_service.seed import pad_key

pytestmark = pytest.mark.browser


@pytest.fixture
async def sqlite_url(templates: dict[str, Any]) -> AsyncIterator[str]:
    template = templates["sqlite"]
    url: str = await template.fresh()
    yield url
    await template.drop(url)


async def test_kiosk_display_and_pad_in_a_browser(
    sqlite_url: str, tmp_path: Path, browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    server: LiveServer = start_server(sqlite_url, tmp_path)
    try:
        await _flow(server, sqlite_url, tmp_path, browser)
    finally:
        server.stop()


async def _flow(server: LiveServer, db_url: str, tmp_path: Path, browser: Any) -> None:
    base = server.url
    api = httpx.AsyncClient(base_url=base, timeout=15)
    try:
        windows = {
            w["number"]: w["id"] for w in (await api.get("/api/v1/halls/demo/windows")).json()
        }
        w1 = await login(api, "w1")
        kiosk_key = {"X-Device-Key": KIOSK_KEY}

        # --- the hall display (a 1920×1080 TV): voice needs one tap ---
        display_ctx = await browser.new_context(viewport={"width": 1920, "height": 1080})
        display = await display_ctx.new_page()
        await display.goto(f"{base}/display/demo")
        await wait_until(display, "window.hallDisplay && window.hallDisplay.connected")
        await display.wait_for_selector(".hd-window >> nth=7")
        await display.click("#voice-enable")  # the corner badge 语音未开启 · 点此开启
        assert await display.is_hidden("#voice-enable")  # the corner badge goes
        # clips in order: letters by name, ticket digits one by one, window numbers as numbers
        # (the display's voice module, imported as a page script would)
        voice = 'import("/displays/voice.js").then((m) => m.phraseClips'
        clips = await display.evaluate(voice + "('B012', 12))")
        assert clips == [
            "qing",
            "lB",
            "d0",
            "d1",
            "d2",
            "hao",
            "dao",
            "shi",
            "d2",
            "hao",
            "chuangkou",
        ]
        assert await display.evaluate(voice + "('A001', 20).slice(6, 9))") == [
            "dao",
            "d2",
            "shi",
        ]

        # --- the kiosk: not set up without its key ---
        kiosk_ctx = await browser.new_context(viewport={"width": 1080, "height": 1920})
        kiosk = await kiosk_ctx.new_page()
        await kiosk.goto(f"{base}/kiosk/demo")
        assert await kiosk.is_visible("#screen-setup")
        assert "尚未设置" in await kiosk.inner_text("#screen-setup")

        # set up once with ?key=…: kept, and removed from the address bar
        await kiosk.add_init_script(
            "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"
        )
        await kiosk.goto(f"{base}/kiosk/demo?key={KIOSK_KEY}")
        await kiosk.wait_for_selector("button[data-service=hukou]")
        assert "key=" not in kiosk.url
        await kiosk.screenshot(path=str(SHOTS / "kiosk.png"))

        # the first answer is lost on the way back (the ticket was made): the kiosk retries
        # with the same idempotency key and gets the same ticket
        lost = {"count": 0}

        async def lose_first_answer(route: Any) -> None:
            if lost["count"] == 0:
                lost["count"] += 1
                await route.fetch()
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await kiosk.route("**/api/v1/halls/demo/tickets", lose_first_answer)
        await kiosk.dblclick("button[data-service=hukou]")  # a double tap
        await kiosk.wait_for_selector("#t-qr svg")
        assert await kiosk.inner_text("#t-number") == "A001"
        assert "户籍业务" in await kiosk.inner_text("#t-service")
        assert "前面还有 0 人" in await kiosk.inner_text("#t-ahead")
        assert "年" in await kiosk.inner_text("#t-time")
        assert await kiosk.evaluate("window.__printed") == 1
        assert await kiosk.evaluate("window.kiosk.state.requests") >= 2
        assert await kiosk.evaluate("window.kiosk.pending") is None  # printed: key forgotten
        services = {s["code"]: s for s in (await api.get("/api/v1/halls/demo/services")).json()}
        assert services["hukou"]["queue_waiting"] == 1  # one ticket, not two
        await kiosk.emulate_media(media="print")
        await kiosk.locator("#ticket").screenshot(path=str(SHOTS / "ticket.png"))
        await kiosk.emulate_media(media="screen")

        # a reload while the answer is on its way: the page asks again with the same key and
        # shows (and prints) the same ticket, not a second one
        await kiosk.click("#ticket-done")
        await kiosk.unroute("**/api/v1/halls/demo/tickets")
        made = asyncio.Event()

        async def never_answer_the_first(route: Any) -> None:
            if made.is_set():  # the reloaded page asks again
                await route.continue_()
                return
            await route.fetch()  # the server makes the ticket, the page never hears back
            made.set()
            # Left unanswered while the route stays in place: the reload drops the request.
            # (Unrouting here would let it go on to the server, and the old page could get
            # its ticket before the reload.)

        await kiosk.route("**/api/v1/halls/demo/tickets", never_answer_the_first)
        await kiosk.click("button[data-service=shebao]")
        await asyncio.wait_for(made.wait(), 20)
        await kiosk.reload()
        await kiosk.wait_for_selector("#t-qr svg")
        await kiosk.unroute("**/api/v1/halls/demo/tickets")
        assert await kiosk.inner_text("#t-number") == "D001"
        assert await kiosk.evaluate("window.kiosk.state.requests") == 1
        services = {s["code"]: s for s in (await api.get("/api/v1/halls/demo/services")).json()}
        assert services["shebao"]["queue_waiting"] == 1  # its own queue: one ticket
        # people ahead of the next 社保 ticket: A001 too (window 8 serves both)
        assert services["shebao"]["waiting"] == 2

        # --- window 1 calls it: the display shows it and queues the announcement ---
        called = await api.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)
        assert called.json()["number"] == "A001"
        await wait_until(
            display, "window.hallDisplay.announcements.includes('请A001号到1号窗口办理')"
        )
        assert "A001" in await display.inner_text("#latest-call")
        assert "A001" in await display.inner_text(".hd-window[data-window='1']")
        paused = await api.post(
            f"/api/v1/windows/{windows[3]}/pause", headers=await login(api, "w3")
        )
        assert paused.status_code == 200
        await display.wait_for_selector(".hd-window[data-window='3'].status-paused")
        assert "暂停" in await display.inner_text(".hd-window[data-window='3']")
        # a busier hall for the screenshot: more calls, people waiting
        for service in ("budongchan", "budongchan", "qiye", "shuiwu"):
            await api.post(
                "/api/v1/halls/demo/tickets", json={"service": service}, headers=kiosk_key
            )
        for number in (4, 5, 7):
            staff = await login(api, f"w{number}")
            assert (
                await api.post(f"/api/v1/windows/{windows[number]}/call-next", headers=staff)
            ).status_code == 200
        await wait_until(display, "window.hallDisplay.announcements.length === 4")
        await wait_until(
            display,
            "window.hallDisplay.announcementLog.some(a => a.status === 'playing' || a.status === 'played')",
        )
        # the offline voice clips were fetched and decoded (42: chime, words, digits, A–Z)
        assert (
            await display.evaluate("Object.keys(window.hallDisplay.announcer.buffers).length") == 42
        )
        assert "E001" in await display.inner_text("#latest-call")
        assert "等候 1 人" in await display.inner_text(".hd-wait[data-prefix='B']")
        await display.screenshot(path=str(SHOTS / "hall-display.png"))

        # the window-top display of window 1 shows its own number only
        top = await display_ctx.new_page()
        await top.goto(f"{base}/display/demo/window/1")
        await wait_until(top, "document.getElementById('wd-ticket').textContent === 'A001'")
        await top.close()

        # in English both displays are English (the hall's, staff and services' names aside)
        for path, ready, texts in (
            (
                "/display/demo?lang=en",
                "document.querySelector('#latest-call .hd-latest-text')",
                "h2, #clock-date, .hd-window-status, .hd-wait-count, .hd-recent-window,"
                " #latest-call .hd-latest-text",
            ),
            (
                "/display/demo/window/1?lang=en",
                "document.getElementById('wd-ticket').textContent === 'A001'",
                ".wd-number, #wd-status, .wd-services-label, #wd-staff-no",
            ),
        ):
            english = await display_ctx.new_page()
            await english.goto(base + path)
            await wait_until(english, ready)
            shown = await english.evaluate(
                f"[...document.querySelectorAll('{texts}')].map(e => e.innerText)"
            )
            assert shown and not [s for s in shown if re.search(r"[\u4e00-\u9fff]", s)], shown
            await english.close()

        # --- the evaluator pad of window 1 shows the finished ticket and its QR ---
        pad_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        pad = await pad_ctx.new_page()
        await pad.goto(f"{base}/pad/demo/1#key={pad_key(KIOSK_KEY, 1)}")
        await pad.wait_for_selector("#pad-idle:not([hidden])")
        await wait_until(pad, "window.evaluatorPad.stream.connected")
        assert "key=" not in pad.url
        ticket_id = called.json()["id"]
        assert (await api.post(f"/api/v1/tickets/{ticket_id}/start", headers=w1)).status_code == 200
        finished = await api.post(
            f"/api/v1/tickets/{ticket_id}/finish", json={"outcome": "completed"}, headers=w1
        )
        assert finished.status_code == 200
        await pad.wait_for_selector("#pad-finished:not([hidden]) #pad-qr svg")
        assert await pad.inner_text("#pad-ticket") == "A001"
        assert "张伟" in await pad.inner_text("#pad-staff")
        assert (await pad.get_attribute("#pad-rating", "data-track-url") or "").startswith(
            f"{base}/t/"
        )
        await pad.screenshot(path=str(SHOTS / "pad.png"))
        # meanwhile the kiosk went back to its start screen by itself
        await kiosk.wait_for_selector("#screen-start:not([hidden])", timeout=20000)
        await pad_ctx.close()
        await kiosk_ctx.close()

        # --- the server restarts; the display reconnects by itself and misses nothing ---
        seq_before = await display.evaluate("window.hallDisplay.lastSeq")
        server.stop()
        await display.wait_for_selector("#reconnecting:not([hidden])")
        assert "正在重新连接" in await display.inner_text("#reconnecting")
        restarted = start_server(db_url, tmp_path, port=server.port)
        server.process = restarted.process  # stopped by the caller's finally
        w2 = await login(api, "w2")
        issued = await api.post(
            "/api/v1/halls/demo/tickets",
            json={"service": "hukou"},
            headers={"X-Device-Key": KIOSK_KEY},
        )
        assert issued.json()["number"] == "A002"
        called2 = await api.post(f"/api/v1/windows/{windows[2]}/call-next", headers=w2)
        assert called2.json()["number"] == "A002"
        await wait_until(
            display,
            "window.hallDisplay.announcements.includes('请A002号到2号窗口办理')",
            seconds=40,
        )
        await display.wait_for_selector("#reconnecting", state="hidden")
        assert "A002" in await display.inner_text(".hd-window[data-window='2']")
        assert await display.evaluate("window.hallDisplay.lastSeq") > seq_before
        await display_ctx.close()
    finally:
        await api.aclose()
