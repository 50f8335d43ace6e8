"""An invited supervisor (特邀廉政监督员) in headless Chromium (SQLite), on a phone (390×844):
signs in, reports a 差评 against a window on /supervise, and sees it in the list with its
rectification's progress (the head's 待核实), all in Chinese, nothing cut off sideways, no
console error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.dbs import DEMO_PASSWORD
from tests.support.device_checks import ENGLISH, assert_fits, watch
from tests.support.server import LiveServer, start_server
from tests.support.supervisors import SUPERVISOR_PASSWORD, add_supervisor_to
from window_service.db import create_database

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_url: str, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    if backend != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    live = start_server(db_url, tmp_path)
    yield live
    live.stop()


async def test_a_supervisor_reports_a_window_and_follows_its_rectification(
    db_url: str, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    db = create_database(db_url)
    try:
        await add_supervisor_to(db)
    finally:
        await db.dispose()

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = await phone.new_page()
    problems = watch(page)
    await page.goto(f"{server.url}/supervise")
    await page.get_by_label("用户名").fill("jd-li")
    await page.get_by_label("密码").fill(SUPERVISOR_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/supervise")
    await expect(page.locator("#observations-empty")).to_be_visible()
    await assert_fits(page, height=False)

    form = page.locator("#observe-form")
    await form.get_by_label("反映对象").select_option("window")
    # The department chooser is for a report against a department only.
    await expect(form.get_by_label("部门", exact=True)).to_be_hidden()
    await form.get_by_label("窗口号").fill("1")
    await form.get_by_label("评价").select_option("1")
    await form.get_by_label("反映内容").fill("窗口工作人员办理时长时间接听私人电话")
    await form.get_by_role("button", name="提交").click()

    row = page.locator("#observations tr.observation")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("1号窗口")
    await expect(row).to_contain_text("非常不满意")
    await expect(row).to_contain_text("接听私人电话")
    # A 差评 became a rectification for the head: its progress is shown, not a dash.
    assert "—" not in (await row.locator("td").last.inner_text())
    main_text = await page.evaluate("() => document.querySelector('main').innerText")
    assert ENGLISH.findall(main_text) == [], main_text
    await assert_fits(page, height=False)
    await page.screenshot(path=str(tmp_path / "supervise.png"), full_page=True)
    assert problems == [], problems
    await phone.close()

    # The office sees it among the hall's ratings, from the supervisors' channel.
    async with httpx.AsyncClient(base_url=server.url) as c:
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "office", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        listed = await c.get(
            "/api/v1/halls/demo/feedback", headers={"Authorization": f"Bearer {token}"}
        )
    assert listed.status_code == 200, listed.text
    [entry] = [r for r in listed.json() if "接听私人电话" in r["comment"]]
    assert entry["channel"] == "supervisor", entry
