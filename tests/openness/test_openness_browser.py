"""The public results page (办件结果公示) in headless Chromium: on a phone (390 px) and on an
office PC, with the applicant's name masked and no phone number anywhere."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import SHOTS
from tests.support.client import KIOSK
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def decided_case(c: httpx.AsyncClient, name: str, decision: str) -> dict[str, Any]:
    """A hukou case accepted at window 1 and then completed or rejected."""
    token = (
        await c.post("/api/v1/auth/token", json={"username": "w1", "password": DEMO_PASSWORD})
    ).json()["access_token"]
    w1 = {"Authorization": f"Bearer {token}"}
    ticket = (
        await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    ).json()
    windows = {w["number"]: w["id"] for w in (await c.get("/api/v1/halls/demo/windows")).json()}
    assert (await c.post(f"/api/v1/windows/{windows[1]}/call-next", headers=w1)).status_code == 200
    assert (await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=w1)).status_code == 200
    case = await c.post(
        f"/api/v1/tickets/{ticket['id']}/case",
        json={"applicant_name": name, "applicant_phone": "13912345678"},
        headers=w1,
    )
    assert case.status_code == 201, case.text
    r = await c.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "accepted"}, headers=w1
    )
    assert r.status_code == 200
    no = case.json()["receipt_no"]
    if decision == "completed":
        r = await c.post(f"/api/v1/cases/{no}/complete", headers=w1)
    else:
        r = await c.post(f"/api/v1/cases/{no}/reject", json={"reason": "材料不符"}, headers=w1)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = case.json()
    return data


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_public_results_page_on_a_phone_and_an_office_pc(
    live_server: LiveServer, browser: Browser, backend: str
) -> None:
    url = live_server.url
    async with httpx.AsyncClient(base_url=url) as c:
        done = await decided_case(c, "张小三", "completed")
        refused = await decided_case(c, "欧阳小明", "rejected")
    errors: list[str] = []

    phone_ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = await phone_ctx.new_page()
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await phone.goto(f"{url}/results/demo")
    await expect(phone.get_by_role("heading", name="办件结果公示")).to_be_visible()
    await expect(phone.locator("#results-count")).to_have_text("2")
    rows = phone.locator("tr.result")
    await expect(rows).to_have_count(2)
    first = phone.locator(f"tr.result[data-receipt='{refused['receipt_no']}']")
    await expect(first.locator(".applicant")).to_have_text("欧**明")
    await expect(first.locator(".decision")).to_have_text("不予受理")
    second = phone.locator(f"tr.result[data-receipt='{done['receipt_no']}']")
    await expect(second.locator(".applicant")).to_have_text("张*三")
    await expect(second.locator(".decision")).to_have_text("准予办结")
    body = await phone.locator("body").inner_text()
    assert "13912345678" not in body and "张小三" not in body and "欧阳小明" not in body
    assert done["check_code"] not in body
    # Cards, not a table, on the phone: no header row, nothing wider than the screen.
    await expect(phone.locator("table.results thead")).to_be_hidden()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.screenshot(path=str(SHOTS / "results-phone.png"), full_page=True)

    # A reversed range is refused with a Chinese message.
    await phone.locator("input[name=from]").fill("2026-12-31")
    await phone.locator("input[name=to]").fill("2026-12-01")
    await phone.get_by_role("button", name="查询").click()
    await expect(phone.locator("#results-error")).to_contain_text("开始日期不能晚于结束日期")
    await phone_ctx.close()

    pc_ctx = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pc = await pc_ctx.new_page()
    pc.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await pc.goto(f"{url}/results/demo")
    await expect(pc.locator("table.results thead")).to_be_visible()
    await expect(pc.locator("tr.result")).to_have_count(2)
    assert await pc.evaluate("document.documentElement.scrollWidth") <= 1366
    await pc.screenshot(path=str(SHOTS / "results-pc.png"), full_page=True)
    await pc_ctx.close()
    # No script or style refused (CSP) and no script error; the 422 of the refused range and
    # a missing favicon are the only failed loads.
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_terminal_records_a_charge_and_the_office_is_told(
    live_server: LiveServer, browser: Browser, backend: str
) -> None:
    url = live_server.url
    async with httpx.AsyncClient(base_url=url) as c:
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        r = await c.put(
            "/api/v1/halls/demo/services/budongchan/fee",
            json={"free": False, "items": [{"name": "复印费", "unit": "页", "max_unit_cents": 50}]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{url}/login?next=/terminal")
    await page.get_by_label("用户名").fill("w3")
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()
    await page.goto(f"{url}/terminal")
    await expect(page.locator("#conn")).to_have_text("实时连接正常")
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.post(
            "/api/v1/halls/demo/tickets", json={"service": "budongchan"}, headers=KIOSK
        )
        assert r.status_code == 201
    await expect(page.locator("#queue-count")).to_have_text("1")
    await expect(page.locator("#fee-charge")).to_be_disabled()
    await page.keyboard.press("F1")
    await expect(page.locator("#current-number")).to_have_text("B001")
    await page.keyboard.press("F3")
    await expect(page.locator("#case-accept")).to_be_enabled()  # serving
    await expect(page.locator("#fee-charge")).to_be_enabled()
    await page.locator("#fee-charge").click()
    dialog = page.locator("#fee-charge-dialog")
    await expect(dialog.locator("#fee-charge-standard")).to_have_text("复印费 0.50元/页")
    await dialog.get_by_label("收费项目").fill("复印费")
    await dialog.get_by_label("数量").fill("20")
    await dialog.get_by_label("实收（元）").fill("40.00")
    await dialog.get_by_label("票据号").fill("FS0099")
    await dialog.get_by_role("button", name="登记").click()
    await expect(page.locator("#flash")).to_contain_text("不符合收费标准")
    await expect(page.locator("#flash")).to_contain_text("超标准收费")
    await page.screenshot(path=str(SHOTS / "terminal-charge.png"))
    await ctx.close()
    async with httpx.AsyncClient(base_url=url) as c:
        token = (
            await c.post(
                "/api/v1/auth/token", json={"username": "office", "password": DEMO_PASSWORD}
            )
        ).json()["access_token"]
        flags = (
            await c.get("/api/v1/fee-flags", headers={"Authorization": f"Bearer {token}"})
        ).json()
    assert [(f["receipt_no"], f["amount_cents"], f["allowed_cents"]) for f in flags] == [
        ("FS0099", 4000, 1000)
    ]
