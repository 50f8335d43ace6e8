"""Office statistics, the parts that do not depend on the database: who may see them, the
CSV/XLSX exports and the page (run on SQLite only; the figures are tested on both)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.client import login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.stats import busy_morning, open_hall
from window_service.clock import FixedClock


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
async def hall(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    async with open_hall(db_url, tmp_path) as opened:
        yield opened


async def test_who_may_see_statistics(hall: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, clock = hall
    await busy_morning(client, clock)
    url = "/api/v1/halls/demo/stats?period=2026-11-26&by=service"
    assert (await client.get(url)).status_code == 401
    for username in ("w1",):
        assert (await client.get(url, headers=await login(client, username))).status_code == 403
    for username in ("office", "admin", "head"):
        assert (await client.get(url, headers=await login(client, username))).status_code == 200
    bad = await client.get(
        "/api/v1/halls/demo/stats?period=2026-13", headers=await login(client, "office")
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_period"
    bad = await client.get(
        "/api/v1/halls/demo/stats?by=planet", headers=await login(client, "office")
    )
    assert bad.status_code == 422


async def test_exports(hall: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, clock = hall
    await busy_morning(client, clock)
    office = await login(client, "office")
    base = "/api/v1/halls/demo/stats/export?period=2026-11-26&by=window"
    response = await client.get(base + "&format=csv", headers=office)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0].startswith("分组") and "取号数 tickets" in rows[1]
    body = {r[0]: r for r in rows[2:]}
    assert body["1"][2] == "3" and body["total"][2] == "4"

    response = await client.get(base + "&format=xlsx", headers=office)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按窗口", "按小时", "按日"]
    sheet = book["按窗口"]
    assert sheet.cell(3, 1).value == "1" and sheet.cell(3, 3).value == 3


async def test_statistics_page(hall: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, clock = hall
    await busy_morning(client, clock)
    page = await client.get("/office/stats")
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]
    form = await client.get("/login")
    token = form.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    signed = await client.post(
        "/login", data={"username": "office", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert signed.status_code in (302, 303)
    page = await client.get("/office/stats?period=2026-11&by=window")
    assert page.status_code == 200
    html = page.text
    assert "效能统计" in html and "1号窗口" in html
    assert "/api/v1/halls/demo/stats/export?period=2026-11&amp;by=window&amp;format=xlsx" in html
    # the charts are drawn by the vendored ECharts from the data on the page, titled in Chinese
    assert "/static/vendor/echarts/echarts.common.min.js" in html
    charts = json.loads(html.split('id="stats-charts">', 1)[1].split("</script>", 1)[0])
    assert [c["title"] for c in charts][:2] == ["各时段取号量与平均等候", "每日取号与办结"]
    assert not any(re.search("[A-Za-z]{3}", c["title"]) for c in charts)
    # the period is picked, not typed: a month input, a date input and a list of quarters
    assert 'type="month" name="month" value="2026-11"' in html and 'type="date" name="day"' in html
    picked = await client.get("/office/stats?kind=quarter&quarter=2026-Q4&by=hall")
    assert picked.status_code == 200 and "2026年第4季度" in picked.text
    # by hall the hall's row is the total: it is shown once, not again as 合计
    assert picked.text.count('class="total"') == 1 and "合计" not in picked.text
    english = await client.get("/office/stats?kind=month&month=2026-11&lang=en")
    assert "November 2026" in english.text and "2026年11月" not in english.text
    office = await client.get("/office")
    assert "/office/stats" in office.text
    # a mistyped period shows the error (in Chinese only) and the default month
    page = await client.get("/office/stats?period=2026-99&lang=zh")
    assert page.status_code == 200 and "统计期间无效" in page.text
    assert "(" not in page.text.split('role="alert">', 1)[1].split("</p>", 1)[0]


async def test_a_head_sees_their_departments_only(
    hall: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    from sqlalchemy import select

    from window_service.halls.models import Department, Hall
    from window_service.stats.period import parse_period
    from window_service.stats.service import hall_stats

    client, clock = hall
    await busy_morning(client, clock)
    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.core.db.read() as session:
        demo = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()
        police = (
            await session.execute(select(Department).where(Department.code == "gongan"))
        ).scalar_one()
        stats = await hall_stats(
            session,
            demo,
            parse_period("2026-11-26"),
            "service",
            now=clock.now(),
            department_ids=frozenset({police.id}),
        )
    assert [r["key"] for r in stats.as_dict()["rows"]] == ["hukou"]
    assert stats.total.tickets == 3  # the 企业开办 ticket belongs to another department
