"""The hall TV (1920×1080) and the window-top displays (1280×400, 800×480) in headless Chromium
against a live server (SQLite only), on the small demo hall, the county-size hall (24 queues,
40 windows, 3 zones) and a hall of 80 windows and 40 queues.

What a hall manager checks by looking: nothing scrolls or is cut off, every window is on the
screen, a zone's TV shows only its zone, a recalled ticket is listed once, the stars on the TV
and above the window are the stars the office published (a 1-star and a star-less worker
included), the pages are all Chinese, and the browser reports no error or CSP violation.
Screenshots: docs/screenshots/hall-tv-*.png and window-top-*.png.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from tests.support.browser import SHOTS, wait_until
from tests.support.client import login
from tests.support.dbs import AUDIT_KEY, DEMO_PASSWORD, KIOSK_KEY, sqlite_copy
from tests.support.ratings import bulk_ratings
from tests.support.server import LiveServer, start_server
from window_service.admin.county import county_setup, seed_county
from window_service.admin.setup import check_workbook, create_hall
from window_service.admin.setup_apply import apply_setup
from window_service.admin.setup_rows import PersonRow, ServiceRow, WindowRow
from window_service.admin.workbook_write import write_workbook
from window_service.auth.principal import hash_device_key
from window_service.auth.roles import STAFF
from window_service.chain import AuditKey
from window_service.db import create_database, utcnow
from window_service.halls.models import Device, Hall
from window_service.transaction import Actor, Tx

pytestmark = pytest.mark.browser

TV = {"width": 1920, "height": 1080}
TOPS = ({"width": 1280, "height": 400}, {"width": 800, "height": 480})
BIG_KIOSK = "big-hall-kiosk-key-0123456789"

#: Boxes whose text must lie inside them (nothing clipped by a tile's overflow).
BOXES = (
    ".hd-window, .hd-wait, .hd-latest, .hd-recent li, .wd-header, .wd-staff, .wd-call, .wd-footer"
)
TEXTS = (
    ".hd-window-number, .hd-window-ticket, .hd-window-status, .hd-wait-prefix, .hd-wait-name,"
    " .hd-wait-count, .hd-wait-est, #zone-name, #clock-time, .voice-badge, .hd-latest-ticket, .hd-latest-text, .hd-recent li > span, .wd-number,"
    " .wd-clock, .wd-ticket, .wd-status, .wd-services, .wd-staff-name, .wd-staff-no, .wd-stars"
)
LAYOUT = """([boxes, texts]) => {
  const d = document.documentElement;
  const out = {width: d.scrollWidth, height: d.scrollHeight, outside: [], clipped: []};
  const inside = (r, b) => r.left >= b.left - 1 && r.top >= b.top - 1
      && r.right <= b.right + 1 && r.bottom <= b.bottom + 1;
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  for (const n of document.querySelectorAll(boxes)) {
    const r = n.getBoundingClientRect();
    if (r.width > 0 && !inside(r, view)) out.outside.push(n.className + ' ' + n.textContent);
  }
  for (const n of document.querySelectorAll(texts)) {
    const r = n.getBoundingClientRect();
    if (!r.width || !n.textContent.trim()) continue;
    const box = n.closest(boxes);
    const fits = n.scrollWidth <= n.clientWidth + 1 || getComputedStyle(n).display === 'inline';
    if (!fits || (box && !inside(r, box.getBoundingClientRect()))) {
      out.clipped.push(n.className + ' ' + n.textContent);
    }
  }
  return out;
}"""


class Watched:
    """A page whose console errors, page errors and CSP violations are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.problems.append(f"{message.type}: {message.text}")


async def open_page(browser: Any, url: str, viewport: dict[str, int]) -> Watched:
    context = await browser.new_context(viewport=viewport, locale="zh-CN")
    watched = Watched(await context.new_page())
    await watched.page.goto(url)
    return watched


async def check_screen(watched: Watched, viewport: dict[str, int], shot: str) -> None:
    """Fits the screen, nothing clipped, all Chinese, no browser complaint; screenshot."""
    page = watched.page
    layout = await page.evaluate(LAYOUT, [BOXES, TEXTS])
    assert layout["width"] <= viewport["width"], layout
    assert layout["height"] <= viewport["height"], layout
    assert layout["outside"] == [], layout["outside"]
    assert layout["clipped"] == [], layout["clipped"]
    text = await page.inner_text("body")
    # ticket numbers and prefixes (A001, AB) and 工号 (GH1003) are the only Latin letters allowed
    english = re.findall(r"[A-Za-z]{2,}", re.sub(r"\b[A-Z]{1,2}\d*\b", "", text))
    assert english == [], english
    assert watched.problems == [], watched.problems
    await page.screenshot(path=str(SHOTS / shot))


async def tv_stars(page: Any) -> dict[str, int]:
    """Every worker the star strip shows (turning its pages), username → ★ shown."""
    await wait_until(page, "window.boardStrip && window.boardStrip.people.length > 0")
    shown: dict[str, int] = {}
    for _ in range(await page.evaluate("Math.ceil(window.boardStrip.people.length / 4)")):
        await page.evaluate("window.boardStrip.turn()")
        for item in await page.locator("#board-strip .bs-item").all():
            stars = item.locator(".bs-stars")
            full = (await stars.evaluate("n => n.firstChild.textContent")).count("★")
            assert full == int(await stars.get_attribute("data-stars") or -1)
            assert full + (await stars.locator(".bs-off").inner_text()).count("☆") == 5
            shown[await item.get_attribute("data-username") or ""] = full
    assert await page.is_visible("#board-strip")
    # styled by display.css: the strip is a readable line, not tiny unstyled text
    assert await page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#board-strip')).fontSize) >= 24"
    )
    return shown


async def staff_calls(api: httpx.AsyncClient, hall: str, staff: str, numbers: list[int]) -> None:
    windows = {
        w["number"]: w["id"] for w in (await api.get(f"/api/v1/halls/{hall}/windows")).json()
    }
    for number in numbers:
        headers = await login(api, staff.format(number))
        called = await api.post(f"/api/v1/windows/{windows[number]}/call-next", headers=headers)
        assert called.status_code == 200, called.text


async def tickets(api: httpx.AsyncClient, hall: str, key: str, count: int) -> None:
    services = (await api.get(f"/api/v1/halls/{hall}/services")).json()
    for i in range(count):
        issued = await api.post(
            f"/api/v1/halls/{hall}/tickets",
            json={"service": services[i % len(services)]["code"]},
            headers={"X-Device-Key": key},
        )
        assert issued.status_code in (200, 201), issued.text


async def seed_big_hall(db_url: str) -> None:
    """Hall ``big``: the county's departments, 40 queues and 80 windows (through the import)."""
    rows = county_setup(DEMO_PASSWORD)
    departments = [d.code for d in rows.departments]
    for i in range(16):
        rows.services.append(
            ServiceRow(
                0,
                f"extra{i}",
                f"延伸事项{i + 1}",
                departments[i % 12],
                "A" + "ABCDEFGHJKLMNPQR"[i],
                20,
                5,
                20,
                "免费",
                ["身份证"],
                "《示例条例》",
            )
        )
    codes = [s.code for s in rows.services]
    for n in range(41, 81):
        rows.windows.append(WindowRow(0, n, "", "三楼", [codes[n % 40], codes[(n + 20) % 40]]))
        rows.people.append(
            PersonRow(0, f"big-w{n}", f"周{n}", f"DT{n:03d}", STAFF, n, [], DEMO_PASSWORD)
        )
    for person in rows.people:
        person.username = person.username.replace("county-", "big-")
    db = create_database(db_url, audit_key=AuditKey(AUDIT_KEY.encode()))
    try:
        async with db.write() as session:
            tx = Tx(session, 0, utcnow(), Actor.system())
            hall = await create_hall(
                tx, code="big", name="大型政务服务中心", timezone="Asia/Shanghai"
            )
            assert hall.id is not None
            await apply_setup(tx, hall, await check_workbook(session, hall, write_workbook(rows)))
            session.add(
                Device(
                    hall_id=hall.id,
                    kind="kiosk",
                    name="取号机",
                    key_hash=hash_device_key(BIG_KIOSK),
                )
            )
            await tx.commit()
        async with db.read() as session:
            assert (await session.execute(select(Hall).where(Hall.code == "big"))).scalar_one()
    finally:
        await db.dispose()


@pytest.fixture(scope="module", name="three_halls")
async def three_halls_fixture(templates: dict[str, Any]) -> AsyncIterator[tuple[str, str]]:
    """The demo database with the county hall and hall ``big`` added, seeded once for the
    module (it takes half a minute), and the county's first kiosk key: each test runs on a
    copy."""
    template = templates["sqlite"]
    url: str = await template.fresh()
    db = create_database(url, audit_key=AuditKey(AUDIT_KEY.encode()))
    try:
        creds = await seed_county(
            db, timezone="Asia/Shanghai", password=DEMO_PASSWORD, device_key=KIOSK_KEY
        )
    finally:
        await db.dispose()
    await seed_big_hall(url)
    yield url, creds.device_keys["一楼A区取号机"]
    await template.drop(url)


@pytest.fixture
def server(three_halls: tuple[str, str], tmp_path: Path) -> Iterator[tuple[LiveServer, str, str]]:
    seeded, county_kiosk = three_halls
    url = sqlite_copy(seeded, tmp_path)
    live = start_server(url, tmp_path)
    try:
        yield live, url, county_kiosk
    finally:
        live.stop()


async def publish_month(api: httpx.AsyncClient, db_url: str) -> dict[str, int | None]:
    """A month two months back with a 5-star, a 1-star and a star-less (too few ratings) worker."""
    hall_day = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=62)
    then = hall_day.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    await bulk_ratings(db_url, 2, [5] * 45 + [4] * 5, then)
    await bulk_ratings(db_url, 3, [1] * 50, then)
    await bulk_ratings(db_url, 4, [5] * 2, then)
    period = f"{hall_day.year:04d}-{hall_day.month:02d}"
    office = await login(api, "office")
    published = await api.post(
        "/api/v1/halls/demo/ratings/publish", json={"period": period}, headers=office
    )
    assert published.status_code == 201, published.text
    rows = (await api.get(f"/api/v1/halls/demo/ratings?period={period}&subject=staff")).json()
    return {r["key"]: r["stars"] for r in rows}


async def test_small_hall_tv_and_window_tops(
    server: tuple[LiveServer, str, str], browser: Any
) -> None:
    live, db_url, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as api:
        published = await publish_month(api, db_url)
        assert published["w3"] == 1 and published["w4"] is None, published
        await tickets(api, "demo", KIOSK_KEY, 16)
        await staff_calls(api, "demo", "w{}", [1, 2, 3, 4, 5, 6])
        windows = {
            w["number"]: w["id"] for w in (await api.get("/api/v1/halls/demo/windows")).json()
        }
        recalled = await api.post(
            f"/api/v1/windows/{windows[1]}/recall", headers=await login(api, "w1")
        )
        assert recalled.status_code == 200, recalled.text

        tv = await open_page(browser, f"{live.url}/display/demo", TV)
        page = tv.page
        await wait_until(page, "window.hallDisplay && window.hallDisplay.connected")
        await wait_until(page, "document.querySelectorAll('.hd-window').length === 8")
        await wait_until(page, "document.querySelectorAll('.hd-wait').length === 5")
        # the recall is the latest call; A001 is not listed a second time below it
        assert "A001" in await page.inner_text(".hd-latest-ticket")
        listed = [
            await li.get_attribute("data-ticket")
            for li in await page.locator(".hd-recent li").all()
        ]
        assert "A001" not in listed and len(listed) == len(set(listed)) == 5
        # the voice badge sits in a corner; nothing dims the screen
        assert await page.is_visible("#voice-enable")
        assert await page.locator("#voice-enable").evaluate(
            "n => n.getBoundingClientRect().width < 400"
        )
        shown = await tv_stars(page)
        assert shown == {k: v for k, v in published.items() if v is not None}
        assert shown["w3"] == 1 and "w4" not in shown
        await check_screen(tv, TV, "hall-tv-demo.png")
        await page.click("#voice-enable")
        assert await page.is_hidden("#voice-enable")

        for number, stars in ((3, "1"), (4, "")):
            for viewport in TOPS:
                top = await open_page(browser, f"{live.url}/display/demo/window/{number}", viewport)
                await wait_until(top.page, "window.windowDisplay.stream.connected")
                await wait_until(top.page, "!document.body.classList.contains('no-staff')")
                await wait_until(
                    top.page, "document.getElementById('wd-services').textContent !== ''"
                )
                assert await top.page.get_attribute("#wd-stars", "data-stars") == stars
                star_text = await top.page.inner_text("#wd-stars")
                assert star_text.count("★") == (published[f"w{number}"] or 0)
                if not stars:
                    assert "暂无评定" in star_text
                assert "工号" in await top.page.inner_text("#wd-staff-no")
                assert await top.page.inner_text("#wd-ticket") != ""
                size = f"{viewport['width']}x{viewport['height']}"
                await check_screen(top, viewport, f"window-top-demo-{number}-{size}.png")
                await top.page.context.close()
        await page.context.close()


async def test_county_and_big_hall_tvs_fit(
    server: tuple[LiveServer, str, str], browser: Any
) -> None:
    live, _, county_kiosk = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as api:
        await tickets(api, "county", county_kiosk, 70)
        await staff_calls(api, "county", "county-w{}", [*range(1, 41, 2), 14])
        await tickets(api, "big", BIG_KIOSK, 90)
        await staff_calls(api, "big", "big-w{}", list(range(1, 81, 5)))

    for url, windows, queues, shot in (
        (f"{live.url}/display/county", 40, 12, "hall-tv-county.png"),
        (f"{live.url}/display/county?zone=二楼", 12, 8, "hall-tv-county-zone.png"),
        (f"{live.url}/display/big", 80, 14, "hall-tv-80-windows.png"),
    ):
        tv = await open_page(browser, url, TV)
        page = tv.page
        await wait_until(page, "window.hallDisplay && window.hallDisplay.connected")
        await wait_until(page, f"document.querySelectorAll('.hd-window').length === {windows}")
        await wait_until(page, f"document.querySelectorAll('.hd-wait').length === {queues}")
        if "zone" in url:
            state = await page.evaluate("Object.values(window.hallDisplay.state.windows).length")
            assert state == 12
            assert await page.inner_text("#zone-name") == "二楼"
        await check_screen(tv, TV, shot)
        await page.context.close()

    for viewport in TOPS:
        top = await open_page(browser, f"{live.url}/display/county/window/14", viewport)
        await wait_until(top.page, "window.windowDisplay.stream.connected")
        await wait_until(
            top.page, "document.getElementById('wd-services').textContent.split('、').length === 8"
        )
        await wait_until(top.page, "!document.body.classList.contains('no-staff')")
        await check_screen(
            top, viewport, f"window-top-county-{viewport['width']}x{viewport['height']}.png"
        )
        await top.page.context.close()
