"""民主测评 in headless Chromium (SQLite): a panel member votes by their personal link on a
phone (390×844) in a hall of 60 departments (a long list to scroll, nothing cut off sideways,
all Chinese, no console error; once only), the office sends the member a new link, closes the
round and prints the 督查情况通报."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from tests.support.dbs import DEMO_PASSWORD
from tests.support.device_checks import ENGLISH, assert_fits, watch
from tests.support.server import LiveServer, start_server
from tests.support.settings import SHANGHAI
from window_service.db import create_database
from window_service.halls.models import Department, Hall

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_url: str, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    if backend != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


async def latin_words(page: Any) -> list[str]:
    """English words in the page's content (the top bar has the language switch and the
    account's name)."""
    return ENGLISH.findall(await page.evaluate("() => document.querySelector('main').innerText"))


async def sixty_departments(db_url: str) -> None:
    """The demo hall's 5 departments and 55 more: a real county hall's count."""
    db = create_database(db_url)
    try:
        async with db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
            for n in range(55):
                session.add(
                    Department(
                        hall_id=hall.id or 0,
                        code=f"d{n:02d}",
                        name=f"县第{n + 1}局（政务服务窗口）",
                    )
                )
            await session.commit()
    finally:
        await db.dispose()


async def test_a_member_votes_on_a_phone_and_the_report_prints(
    db_url: str, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    await sixty_departments(db_url)
    today = datetime.now(SHANGHAI)
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    async with httpx.AsyncClient(base_url=server.url) as c:
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "office", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        office = {"Authorization": f"Bearer {token}"}
        member = await c.post(
            "/api/v1/halls/demo/evaluation/members",
            json={
                "year": today.year,
                "name": "王乡长",
                "category": "township",
                "affiliation": "城关镇",
            },
            headers=office,
        )
        assert member.status_code == 201, member.text
        link = member.json()["ballot_url"]
        opened = await c.post(
            "/api/v1/halls/demo/evaluation/rounds", json={"period": quarter}, headers=office
        )
        assert opened.status_code == 201, opened.text
        round_id = opened.json()["id"]

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = await phone.new_page()
    problems = watch(page)
    await page.goto(server.url + link)
    depts = page.locator(".ballot-dept")
    await expect(depts).to_have_count(60)
    await assert_fits(page, height=False)
    assert await latin_words(page) == []
    # Sending an unfinished ballot is stopped on the page and names what is missing.
    await page.get_by_role("button", name="提交测评").click()
    await expect(page.locator("#ballot-missing")).to_contain_text("还有 60 个部门未评完")
    # The first department by tapping each mark; every mark button is inside the screen.
    first = depts.first
    for row in range(6):
        mark = first.locator(".ballot-row").nth(row).locator(".ballot-mark span").first
        box = await mark.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        await mark.tap()
    await expect(page.locator("#ballot-done")).to_have_text("1")
    await page.screenshot(path=str(tmp_path / "ballot.png"))
    # The other 59 by a script (the same change events), the last department 差 throughout.
    await page.evaluate(
        """() => {
            const depts = [...document.querySelectorAll('.ballot-dept')].slice(1);
            depts.forEach((d, i) => d.querySelectorAll('.ballot-row').forEach(r => {
                const marks = r.querySelectorAll('input');
                marks[i === depts.length - 1 ? 3 : 1].checked = true;
            }));
            document.getElementById('ballot-form').dispatchEvent(new Event('change'));
        }"""
    )
    await expect(page.locator("#ballot-done")).to_have_text("60")
    await page.locator(".ballot-bar").screenshot(path=str(tmp_path / "ballot-bar.png"))
    await page.get_by_role("button", name="提交测评").click()
    await expect(page.locator("#ballot-state")).to_be_visible()
    await expect(page.locator("#ballot-state")).to_contain_text("提交成功")
    await assert_fits(page, height=False)
    await page.reload()
    await expect(page.locator("#ballot-state")).to_have_attribute("data-state", "voted")
    assert problems == [], problems
    await phone.close()

    # The office closes the round and prints the 督查情况通报.
    desk = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await desk.new_page()
    problems = watch(page)
    await page.goto(f"{server.url}/office/evaluation")
    await page.get_by_label("用户名").fill("office")
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/office/evaluation")
    await expect(page.locator("article.round[data-status=open] .round-voted")).to_have_text("1")
    # The member's link went astray: a new one is shown once and the old one stops working.
    await assert_fits(page, height=False)
    page.once("dialog", lambda d: d.accept())
    await page.get_by_role("button", name="重发链接").click()
    await expect(page.locator("#member-link")).to_be_visible()
    fresh = await page.locator("#member-link-url").text_content()
    assert fresh and "/ballot/" in fresh and not fresh.endswith(link), fresh
    async with httpx.AsyncClient(base_url=server.url) as c:
        assert (await c.get("/api/v1" + link)).status_code == 404
        assert (await c.get("/api/v1" + fresh.split(server.url, 1)[1])).status_code == 200
    page.once("dialog", lambda d: d.accept())
    await page.get_by_role("button", name="结束测评并公布排名").click()
    await expect(page.locator(f"article.round[data-id='{round_id}']")).to_have_attribute(
        "data-status", "closed"
    )
    await page.get_by_role("link", name="督查情况通报").click()
    await expect(page.locator("#report-paper h1")).to_contain_text("督查情况通报")
    rows = page.locator("#report-ranking tbody tr")
    await expect(rows).to_have_count(60)
    await expect(rows.first).to_contain_text("100.00")
    await expect(rows.last).to_contain_text("40.00")
    await expect(page.locator("#report-paper")).to_contain_text("排名末位的县第55局")
    assert await latin_words(page) == []
    await page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    await page.emulate_media(media="print")
    await expect(page.locator(".topbar")).to_be_hidden()
    await assert_fits(page, height=False)
    pdf = await page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
    (tmp_path / "report.pdf").write_bytes(pdf)
    assert problems == [], problems
    await desk.close()

    # The ranking is on the public board.
    async with httpx.AsyncClient(base_url=server.url) as c:
        board = await c.get("/board/demo")
        assert "民主测评" in board.text
