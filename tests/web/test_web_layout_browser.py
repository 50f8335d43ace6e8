"""The staff and office pages at the sizes they really have, in headless Chromium: the window
terminal on a 1366×768 PC, the office pages on a 1920×1080 (and a 1366×768) screen.

What a person would check: nothing is cut off (the page is no wider than the screen, the key
buttons are on the first screen and not covered by a message), no console error or CSP
violation, no English fragment on a Chinese page and no Chinese on an English one (outside
names). Screenshots: docs/screenshots/terminal-1366.png, stats-1920.png, stats-1366.png,
inspections-1920.png, inspection-notice.png, rectifications-head-1920.png.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.browser import SHOTS, wait_until
from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.ratings import rate, serve
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

#: Latin words a Chinese page may show: the language switch, file formats, keys, usernames.
ALLOWED_LATIN = {"English", "CSV", "Excel", "JPEG", "PNG", "WebP", "P90", "Esc", "DEMO"} | {
    "office",
    "admin",
    "head",
}


@pytest.fixture
def backend() -> str:
    """Layout does not depend on the database: SQLite only."""
    return "sqlite"


class Watched:
    """A page whose console errors, page errors and CSP violations are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(str(e)))


async def signed_in(
    browser: Browser, server: LiveServer, username: str, size: tuple[int, int], path: str
) -> tuple[BrowserContext, Watched]:
    context = await browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale="zh-CN"
    )
    watched = Watched(await context.new_page())
    page = watched.page
    await page.goto(f"{server.url}/login?next={quote(path, safe='/')}")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(lambda url: url.endswith(path))
    return context, watched


async def fits_the_screen(page: Page) -> None:
    width, viewport = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert width <= viewport, f"the page is {width} px wide on a {viewport} px screen"


async def on_first_screen_and_uncovered(page: Page, selector: str) -> None:
    """The element is inside the viewport and what is on top at its centre is the element."""
    box: dict[str, Any] = await page.evaluate(
        """(sel) => { const e = document.querySelector(sel); const r = e.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        const top = document.elementFromPoint(x, y);
        return {bottom: r.bottom, right: r.right, h: innerHeight, w: innerWidth,
                mine: !!top && (top === e || e.contains(top))}; }""",
        selector,
    )
    assert box["bottom"] <= box["h"] and box["right"] <= box["w"], f"{selector} is cut off: {box}"
    assert box["mine"], f"{selector} is covered by something else"


async def no_english_fragment(page: Page) -> None:
    text = await page.evaluate("document.body.innerText")
    words = {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_LATIN}
    assert not words, f"English on a Chinese page: {sorted(words)[:10]}"


async def no_chinese(page: Page, selector: str) -> None:
    texts: list[str] = await page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map(e => e.innerText)", selector
    )
    chinese = [t for t in texts if re.search(r"[\u4e00-\u9fff]", t)]
    assert not chinese, f"Chinese on an English page: {chinese[:5]}"


def shot(name: str) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return str(SHOTS / name)


async def test_terminal_at_1366x768(live_server: LiveServer, browser: Browser) -> None:
    context, watched = await signed_in(browser, live_server, "w1", (1366, 768), "/terminal")
    page = watched.page
    await expect(page.locator("#conn")).to_have_text("实时连接正常")
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        for _ in range(2):
            r = await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
            assert r.status_code == 201, r.text
    await expect(page.locator("#queue-count")).to_have_text("2")
    await page.keyboard.press("F1")
    await expect(page.locator("#current-status")).to_have_text("已叫号")

    # F5 sits beside F4: a single press does nothing but ask; Esc or the timeout undoes it.
    number = await page.locator("#current-number").text_content()
    await page.keyboard.press("F5")
    await expect(page.locator("#no-show-label")).to_have_text("再按 F5 确认过号")
    await expect(page.locator("#flash")).to_contain_text("秒内再按 F5 确认")
    await page.keyboard.press("Escape")
    await expect(page.locator("#flash")).to_contain_text("已取消过号")
    await expect(page.locator("#current-number")).to_have_text(number or "")
    await page.keyboard.press("F5")
    await expect(page.locator("#no-show-label")).to_have_text("再按 F5 确认过号")
    await expect(page.locator("#no-show-label")).to_have_text("过号", timeout=8000)
    await expect(page.locator("#current-status")).to_have_text("已叫号")

    # accept a case: the last-case line and its print button are on the screen, uncovered
    await page.keyboard.press("F3")
    await expect(page.locator("#current-status")).to_have_text("办理中")
    await page.keyboard.press("F6")
    await page.locator("#case-accept-form input[name=applicant_name]").fill("李四")
    await page.locator("#case-accept-form input[name=applicant_phone]").fill("13800000000")
    async with context.expect_page() as receipt_page:
        await page.locator("#case-accept-form button[type=submit]").click()
    receipt = await receipt_page.value
    await expect(page.locator("#case-last")).to_be_visible()
    await expect(page.locator("#flash")).to_contain_text("已受理")
    await on_first_screen_and_uncovered(page, "#case-last-receipt")
    for key in ("F1", "F4", "F5", "F9"):
        await on_first_screen_and_uncovered(page, f'[data-key="{key}"]')
    await fits_the_screen(page)
    await no_english_fragment(page)
    await page.screenshot(path=shot("terminal-1366.png"))
    # the receipt names the clerk by name and 工号
    await expect(receipt.locator("body")).to_contain_text("张伟（工号 GH1003）")

    # the citizen's lookup in English gives its dates in English
    receipt_no = await page.locator("#case-last-no").text_content()
    check_code = await page.locator("#case-last-code").text_content()
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        english = await c.get(
            "/lookup", params={"receipt_no": receipt_no, "check_code": check_code, "lang": "en"}
        )
    assert english.status_code == 200 and "Promised by" in english.text
    assert not re.search(r"\d年\d", english.text), "a Chinese date on the English lookup"

    # a correction notice too (it used to say "1号窗口 w1")
    await page.locator("#case-correction").click()
    form = page.locator("#case-correction-form")
    await form.locator("input[name=receipt_no]").fill(receipt_no or "")
    await form.locator("textarea[name=materials]").fill("户口簿原件")
    async with context.expect_page() as notice_page:
        await form.locator("button[type=submit]").click()
    notice = await notice_page.value
    await expect(notice.locator("#notice")).to_contain_text("张伟（工号 GH1003）")
    assert not watched.problems, watched.problems
    await context.close()


async def test_terminal_holds_resumes_and_transfers_to_a_window_at_1366x768(
    live_server: LiveServer, browser: Browser
) -> None:
    """挂起 with F10, serve the next citizen, transfer them to window 8, resume the held one."""
    context, watched = await signed_in(browser, live_server, "w1", (1366, 768), "/terminal")
    page = watched.page
    await expect(page.locator("#conn")).to_have_text("实时连接正常")
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        numbers = []
        for _ in range(2):
            r = await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
    await expect(page.locator("#queue-count")).to_have_text("2")
    await expect(page.locator('[data-action="hold"]')).to_be_disabled()
    await page.keyboard.press("F1")
    await expect(page.locator("#current-number")).to_have_text(numbers[0])
    await expect(page.locator('[data-action="start"]')).to_be_enabled()
    await page.keyboard.press("F3")
    await expect(page.locator("#current-status")).to_have_text("办理中")
    await expect(page.locator('[data-action="hold"]')).to_be_enabled()
    await page.keyboard.press("F10")  # 挂起: the citizen fetches a copy
    await expect(page.locator("#flash")).to_contain_text("已挂起")
    await expect(page.locator("#current-number")).to_have_text("—")
    await expect(page.locator("#held .q-number")).to_have_text([numbers[0]])
    await expect(page.locator("#held-count")).to_have_text("1")
    await expect(page.locator("#hold-label")).to_have_text(f"恢复 {numbers[0]}")

    await expect(page.locator('[data-action="call"]')).to_be_enabled()
    await page.keyboard.press("F1")  # the window serves the next citizen meanwhile
    await expect(page.locator("#current-number")).to_have_text(numbers[1])
    await expect(page.locator("#held [data-resume]")).to_be_disabled()
    await expect(page.locator("#hold-label")).to_have_text("挂起")
    await expect(page.locator('[data-action="transfer"]')).to_be_enabled()
    await page.keyboard.press("F8")  # 转移 → to window 8 (综合窗口), keeping the queue time
    await expect(page.locator("#transfer-dialog")).to_be_visible()
    await expect(page.locator('#transfer-windows [data-window="2"]')).to_be_visible()
    await expect(page.locator('#transfer-windows [data-staff="w2"]')).to_be_visible()
    await expect(page.locator('#transfer-windows [data-window="3"]')).to_have_count(0)
    await page.locator('#transfer-windows [data-window="8"]').click()
    await expect(page.locator("#flash")).to_contain_text("已转移到")
    await expect(page.locator("#current-number")).to_have_text("—")
    await expect(page.locator("#queue-empty")).to_be_visible()  # it waits for window 8 only

    await expect(page.locator("#held [data-resume]")).to_be_enabled()
    await on_first_screen_and_uncovered(page, '[data-key="F10"]')
    for key in ("F1", "F4", "F5", "F9"):
        await on_first_screen_and_uncovered(page, f'[data-key="{key}"]')
    await fits_the_screen(page)
    await no_english_fragment(page)
    await page.keyboard.press("F10")  # 恢复: the held citizen is back, service goes on
    await expect(page.locator("#current-number")).to_have_text(numbers[0])
    await expect(page.locator("#current-status")).to_have_text("办理中")
    await expect(page.locator("#held-empty")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        token = (
            await c.post("/api/v1/auth/token", json={"username": "w8", "password": DEMO_PASSWORD})
        ).json()["access_token"]
        windows = {w["number"]: w["id"] for w in (await c.get("/api/v1/halls/demo/windows")).json()}
        queue = (
            await c.get(
                f"/api/v1/windows/{windows[8]}/queue", headers={"Authorization": f"Bearer {token}"}
            )
        ).json()
    assert [t["number"] for t in queue] == [numbers[1]]
    assert not watched.problems, watched.problems
    await context.close()


def evidence_photo(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 40, 40)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


async def test_inspection_shows_at_once_with_its_photo(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    context, watched = await signed_in(
        browser, live_server, "office", (1920, 1080), "/office/inspections"
    )
    page = watched.page
    await expect(page.locator("#recent-body")).to_contain_text("暂无暗访记录")
    # the plan's default week is the Monday after the hall's today
    week = await page.locator("input[name=week_start]").input_value()
    assert await page.evaluate(f"new Date('{week}T12:00:00Z').getUTCDay()") == 1
    await page.locator("select[name=staff]").select_option("w1")
    for score in await page.locator("#ins-items input").all():
        await score.fill("1")
    await page.locator("input[type=file]").set_input_files(str(evidence_photo(tmp_path)))
    await page.get_by_role("button", name="保存暗访记录").click()
    await expect(page.locator("#ins-result")).to_contain_text("已签发督查通知书")
    # the recent list shows the visit without a reload, with the staff and a thumbnail
    row = page.locator("#recent-body tr").first
    await expect(row).to_contain_text("张伟（GH1003）")
    await wait_until(page, "document.querySelector('#recent-body img')?.naturalWidth > 0")
    await fits_the_screen(page)
    await no_english_fragment(page)
    await page.screenshot(path=shot("inspections-1920.png"), full_page=True)
    # the 督查通知书 shows the photo and names the staff member with 工号
    await row.locator("a[href^='/office/notices/']").click()
    await expect(page.locator(".notice-paper")).to_contain_text("张伟（工号 GH1003）")
    await wait_until(page, "document.querySelector('.notice-photos img')?.naturalWidth > 0")
    await page.screenshot(path=shot("inspection-notice.png"), full_page=True)
    assert not watched.problems, watched.problems
    await context.close()


async def test_statistics_fit_and_chart_at_office_and_laptop_sizes(
    live_server: LiveServer, browser: Browser
) -> None:
    for size in ((1920, 1080), (1366, 768)):
        context, watched = await signed_in(
            browser, live_server, "office", size, "/office/stats?by=window"
        )
        page = watched.page
        # ECharts (vendored, under the page's CSP) drew every chart, at a readable size
        await wait_until(
            page,
            "[...document.querySelectorAll('.chart')].every(c => c.querySelector('svg'))",
        )
        heights = await page.evaluate(
            "[...document.querySelectorAll('.chart')].map(c => c.getBoundingClientRect().height)"
        )
        assert heights and min(heights) >= 280, heights
        table_right = await page.evaluate(
            "document.getElementById('stats-table').getBoundingClientRect().right"
        )
        assert table_right <= size[0], f"the table ends at {table_right} px"
        await fits_the_screen(page)
        await no_english_fragment(page)
        # the period is picked: a month input; a quarter comes from a list
        await expect(page.locator("input[type=month][name=month]")).to_be_visible()
        await page.get_by_label("按季度").check()
        await expect(page.locator("select[name=quarter]")).to_be_visible()
        await expect(page.locator("input[name=month]")).to_be_hidden()
        await page.screenshot(path=shot(f"stats-{size[0]}.png"), full_page=True)
        assert not watched.problems, watched.problems
        await context.close()

    # the English page is English: headings, chart titles, table heads, the period
    context, watched = await signed_in(
        browser, live_server, "office", (1920, 1080), "/office/stats?by=window&lang=en"
    )
    page = watched.page
    await wait_until(page, "document.querySelector('.chart svg')")
    await no_chinese(page, "figcaption, caption, th, legend, label, button, .kpis li")
    heading = await page.evaluate("document.querySelector('h1').firstChild.textContent")
    assert heading.strip() == "Statistics", heading
    assert not watched.problems, watched.problems
    await context.close()


async def test_admin_chooses_services_from_a_list_and_sees_each_save(
    live_server: LiveServer, browser: Browser
) -> None:
    context, watched = await signed_in(browser, live_server, "admin", (1920, 1080), "/office/admin")
    page = watched.page
    edit = page.locator('#windows form[data-method="PATCH"]')
    await edit.locator("select[name=id]").select_option(label="1号 ")
    # the edit form starts from window 1's services, ticked; ticking another adds it second
    await expect(edit.get_by_label("A · 户籍业务")).to_be_checked()
    await edit.get_by_label("B · 不动产登记").check()
    await expect(
        edit.locator("label.pick", has_text="不动产登记").locator(".pick-order")
    ).to_have_text("2")
    await edit.get_by_role("button", name="保存窗口").click()
    # the success message is still there after the page has reloaded with the result
    await page.wait_for_load_state("load")
    await expect(page.locator("#flash")).to_contain_text("窗口：已保存")
    first = page.locator("#windows table tbody tr").first
    await expect(first).to_contain_text("户籍业务、不动产登记")
    await fits_the_screen(page)
    # the page lists the codes an administrator types (代码 columns), but what the windows and
    # staff tables and the choices show are names, not raw codes
    shown = await page.evaluate(
        "[...document.querySelectorAll('#windows tbody td:nth-child(4), #staff tbody"
        " td:nth-child(6), fieldset.picks')].map(e => e.innerText).join(' ')"
    )
    assert not re.findall(r"[a-z]{3,}", shown), shown
    assert not watched.problems, watched.problems
    await context.close()


async def test_head_rectifies_a_bad_rating_at_1920x1080(
    live_server: LiveServer, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        ticket = await serve(c)
        rated = await rate(c, ticket["track_token"], 1)
        assert rated.status_code == 201, rated.text
    context, watched = await signed_in(
        browser, live_server, "head", (1920, 1080), "/office/rectifications"
    )
    page = watched.page
    # the bad rating's work order, with the steps the head takes (核实 first)
    card = page.locator("#rect-list > *").first
    await expect(card).to_contain_text("1号窗口")
    await expect(card.locator("form").first).to_be_visible()
    await wait_until(page, "document.getElementById('appeal-list').childElementCount > 0")
    await fits_the_screen(page)
    await no_english_fragment(page)
    # nothing inside the work order is cut off at its right edge
    clipped = await page.evaluate(
        """[...document.querySelectorAll('#rect-list *')].filter(e => e.scrollWidth >
        e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible').length"""
    )
    assert clipped == 0, f"{clipped} elements of the work order are cut off"
    await page.screenshot(path=shot("rectifications-head-1920.png"), full_page=True)
    assert not watched.problems, watched.problems
    await context.close()
