"""Office statistics: the figures of a day, their groupings, who may see them, the exports."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.conftest import SHANGHAI, issue, login, make_settings
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.stats.charts import Series, bar_chart, line_chart
from window_service.stats.service import parse_period, quantile


@pytest.fixture
async def hall(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as client:
        yield client, clock
    await app.state.core.db.dispose()


async def serve(
    client: httpx.AsyncClient,
    clock: FixedClock,
    window: int,
    wait: float,
    service: float,
    *,
    outcome: str = "completed",
) -> dict[str, Any]:
    staff = await login(client, f"w{window}")
    clock.advance(minutes=wait)
    called = await client.post(f"/api/v1/windows/{window}/call-next", headers=staff)
    assert called.status_code == 200, called.text
    tid = called.json()["id"]
    assert (await client.post(f"/api/v1/tickets/{tid}/start", headers=staff)).status_code == 200
    clock.advance(minutes=service)
    finished = await client.post(
        f"/api/v1/tickets/{tid}/finish", json={"outcome": outcome}, headers=staff
    )
    assert finished.status_code == 200, finished.text
    return finished.json()


async def busy_morning(client: httpx.AsyncClient, clock: FixedClock) -> None:
    """09:00 three citizens for 户籍 (one elderly), one for 企业开办; served with known times."""
    a1 = await issue(client, "hukou")
    await issue(client, "hukou", priority="elderly")
    await issue(client, "hukou")
    await issue(client, "qiye")
    # window 1: the elderly citizen first (green channel) after 10 min, served 6 min
    await serve(client, clock, 1, 10, 6)
    # window 1: A001 after 4 more min (wait 20), served 4 min
    await serve(client, clock, 1, 4, 4)
    # window 1: A003 called after 2 more min and does not come
    w1 = await login(client, "w1")
    clock.advance(minutes=2)
    called = await client.post("/api/v1/windows/1/call-next", headers=w1)
    assert called.status_code == 200
    assert (
        await client.post(f"/api/v1/tickets/{called.json()['id']}/no-show", headers=w1)
    ).status_code == 200
    # window 5: C001 after 30 min in total (over the 20 min target), served 10 min
    await serve(client, clock, 5, 0, 10)
    # A001's citizen rates 1 (差评)
    assert a1["number"] == "A001"
    response = await client.post(f"/api/v1/track/{a1['track_token']}/feedback", json={"rating": 1})
    assert response.status_code == 201, response.text


async def test_day_figures_by_window_and_hall(hall: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, clock = hall
    await busy_morning(client, clock)
    office = await login(client, "office")
    response = await client.get(
        "/api/v1/halls/demo/stats?period=2026-11-26&by=window", headers=office
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["kind"] == "day" and data["start"] == data["end"] == "2026-11-26"
    rows = {r["key"]: r for r in data["rows"]}
    assert set(rows) == {"1", "5"}
    w1 = rows["1"]
    assert (w1["tickets"], w1["served"], w1["no_shows"]) == (3, 2, 1)
    # waits: 10 (green A002), 20 (A001), 26 (A003, the no-show)
    assert w1["wait_minutes"] == {"mean": 18.7, "median": 20.0, "p90": 24.8}
    assert w1["service_minutes"] == {"mean": 5.0, "median": 5.0, "p90": 5.8}
    assert w1["green_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert w1["wait_breaches"] == 1  # 26 min > 20 min target
    assert (w1["ratings"], w1["bad_ratings"], w1["bad_rate"], w1["satisfaction"]) == (
        1,
        1,
        1.0,
        0.0,
    )
    c = rows["5"]
    assert c["tickets"] == 1 and c["wait_minutes"]["mean"] == 26.0 and c["wait_breaches"] == 1
    total = data["total"]
    assert (total["tickets"], total["served"], total["no_shows"]) == (4, 3, 1)
    assert total["no_show_rate"] == 0.25 and total["green_share"] == 0.25
    hours = {h["hour"]: h for h in data["hours"]}
    assert hours[9]["tickets"] == 4 and hours[10]["tickets"] == 0
    [day] = data["days"]
    assert day == {"day": "2026-11-26", "tickets": 4, "served": 3, "no_shows": 1, "mean_wait": 20.5}

    by_hall = (
        await client.get("/api/v1/halls/demo/stats?period=2026-11&by=hall", headers=office)
    ).json()
    assert [r["key"] for r in by_hall["rows"]] == ["hall"]
    assert by_hall["rows"][0]["tickets"] == 4 and len(by_hall["days"]) == 30
    by_staff = (
        await client.get("/api/v1/halls/demo/stats?period=2026-Q4&by=staff", headers=office)
    ).json()
    assert {r["key"] for r in by_staff["rows"]} == {"w1", "w5"}
    by_dept = (await client.get("/api/v1/halls/demo/stats?by=department", headers=office)).json()
    assert by_dept["period"] == "2026-11"
    assert {r["key"]: r["tickets"] for r in by_dept["rows"]} == {"gongan": 3, "shichang": 1}


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
        "/login", data={"username": "office", "password": "demo-pass-123", "csrf_token": token}
    )
    assert signed.status_code in (302, 303)
    page = await client.get("/office/stats?period=2026-11&by=window")
    assert page.status_code == 200
    html = page.text
    assert "效能统计" in html and "<svg" in html and "1号窗口" in html
    assert "/api/v1/halls/demo/stats/export?period=2026-11&amp;by=window&amp;format=xlsx" in html
    office = await client.get("/office")
    assert "/office/stats" in office.text
    # a mistyped period shows the error and the default month instead of failing
    page = await client.get("/office/stats?period=2026-99")
    assert page.status_code == 200 and "YYYY-MM" in page.text


def test_periods_and_quantiles() -> None:
    assert parse_period("2026-Q1").last.isoformat() == "2026-03-31"
    assert parse_period("2024-02").last.isoformat() == "2024-02-29"
    assert parse_period("2026-11-26").kind == "day"
    for bad in ("2026-02-30", "2026-Q5", "26-11", "2026-11-26T00"):
        with pytest.raises(Exception, match="period"):
            parse_period(bad)
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([5], 0.9) == 5
    assert quantile([], 0.5) is None


def test_charts_are_escaped_svg() -> None:
    svg = bar_chart("<script>", ["a&b", "c"], [Series("x<y", [1, None]), Series("z", [2.5, 3])])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    line = line_chart("每日", ["1", "2", "3"], [Series("n", [1, None, 3])])
    assert line.count("<circle") == 2
