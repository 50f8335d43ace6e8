"""The accountability pages: the public notice board and the office pages, by role."""

from __future__ import annotations

import httpx

from tests.support.client import login, page_login
from tests.support.ratings import window_ids

FULL_LOW = {
    "on_duty": 5,
    "attitude": 10,
    "appearance": 10,
    "one_time_notice": 15,
    "efficiency": 15,
    "fees": 10,
    "integrity": 10,
}


async def test_board_is_public(client: httpx.AsyncClient) -> None:
    page = await client.get("/board/demo")
    assert page.status_code == 200
    assert "电子公示栏" in page.text
    assert "张伟" in page.text and "GH1003" in page.text  # staff name and 工号
    assert "户籍业务" in page.text and "法定时限" in page.text
    assert "本期星级评定尚未公示" in page.text
    assert (await client.get("/board/nowhere")).status_code == 404
    data = (await client.get("/api/v1/halls/demo/board")).json()
    assert data["period"] is None and len(data["staff"]) == 8
    assert data["staff"][0]["initials"]


async def test_office_pages_by_role(client: httpx.AsyncClient) -> None:
    for path in ("/office/inspections", "/office/rectifications", "/office/ratings"):
        assert (await client.get(path)).status_code == 303  # to /login
    await page_login(client, "w1")
    for path in ("/office/inspections", "/office/rectifications", "/office/ratings"):
        assert (await client.get(path)).status_code == 403
    client.cookies.clear()
    await page_login(client, "office")
    for path in ("/office/inspections", "/office/rectifications", "/office/ratings"):
        response = await client.get(path)
        assert response.status_code == 200, path
    office_home = await client.get("/office")
    assert "暗访督查" in office_home.text and "星级评定" in office_home.text
    client.cookies.clear()
    await page_login(client, "head")
    assert (await client.get("/office/inspections")).status_code == 403
    assert (await client.get("/office/rectifications")).status_code == 200


async def test_notice_is_printable_for_office_and_head(client: httpx.AsyncClient) -> None:
    office = await login(client, "office")
    ids = await window_ids(client)
    body = {
        "window": ids[2],
        "staff": "w2",
        "visited_at": "2026-11-02T09:30:00+08:00",
        "scores": FULL_LOW,
        "notes": "工作时间玩手机",
    }
    # The visit is in the past whatever the real date is (system clock).
    saved = await client.post("/api/v1/inspections", json=body, headers=office)
    assert saved.status_code == 201, saved.text
    notice = saved.json()["notice"]
    await page_login(client, "head")
    page = await client.get(notice["print_url"])
    assert page.status_code == 200
    assert "督查通知书" in page.text and notice["number"] in page.text
    assert "工作时间玩手机" in page.text and "县公安局" in page.text
    assert (await client.get("/office/notices/999999")).status_code == 404
    client.cookies.clear()
    await page_login(client, "w2")
    assert (await client.get(notice["print_url"])).status_code == 403
