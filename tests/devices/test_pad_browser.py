"""The evaluator pad keeps offering the rating after the window calls the next citizen
(issue 17: calling at once must not take the rating away). A real browser against a live
server (SQLite only: the page does not depend on the database); the pad's clock is
Playwright's, moved forward by hand, so nothing here waits a minute.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import wait_until
from tests.support.client import KIOSK, login
from tests.support.dbs import KIOSK_KEY
from tests.support.server import start_server
from window_service.seed import pad_key

pytestmark = pytest.mark.browser


@pytest.fixture
async def sqlite_url(templates: dict[str, Any]) -> AsyncIterator[str]:
    template = templates["sqlite"]
    url: str = await template.fresh()
    yield url
    await template.drop(url)


async def test_pad_keeps_the_rating_for_a_minute_after_the_next_call(
    sqlite_url: str, tmp_path: Path, browser: Any
) -> None:
    server = start_server(sqlite_url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
            await _flow(server.url, api, browser)
    finally:
        server.stop()


async def _flow(base: str, api: httpx.AsyncClient, browser: Any) -> None:
    windows = {w["number"]: w["id"] for w in (await api.get("/api/v1/halls/demo/windows")).json()}
    w1 = await login(api, "w1")
    for _ in range(2):
        r = await api.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
        assert r.status_code == 201

    context = await browser.new_context(viewport={"width": 800, "height": 1280})
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.clock.install()
    await page.goto(f"{base}/pad/demo/1#key={pad_key(KIOSK_KEY, 1)}")
    # Nothing finished yet: the idle screen, from a normal answer (no 404 in the console).
    await page.wait_for_selector("#pad-idle:not([hidden])")
    await wait_until(page, "window.evaluatorPad.stream.connected")

    called = await api.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)
    ticket = called.json()["id"]
    assert (await api.post(f"/api/v1/tickets/{ticket}/start", headers=w1)).status_code == 200
    finish = await api.post(
        f"/api/v1/tickets/{ticket}/finish", json={"outcome": "completed"}, headers=w1
    )
    assert finish.status_code == 200
    await page.wait_for_selector("#pad-finished:not([hidden]) #pad-rating .pr-level")
    assert await page.locator("#pad-rating .pr-level").count() == 5

    # The window calls the next citizen at once: the rating stays.
    before = await page.evaluate("window.evaluatorPad.stream.lastSeq")
    nxt = await api.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)
    assert nxt.status_code == 200
    await wait_until(page, f"window.evaluatorPad.stream.lastSeq >= {before + 2}")
    assert await page.is_visible("#pad-finished")
    assert await page.locator("#pad-rating .pr-level").count() == 5
    assert await page.inner_text("#pad-ticket") == "A001"
    await page.clock.fast_forward(30_000)
    assert await page.is_visible("#pad-rating .pr-level")

    # A minute after the finish (the hall's default) the pad goes back to idle.
    await page.clock.fast_forward(31_000)
    await page.wait_for_selector("#pad-idle:not([hidden])")
    assert await page.is_hidden("#pad-rating")
    assert not errors, errors
    await context.close()
