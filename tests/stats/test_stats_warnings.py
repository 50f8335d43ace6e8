"""Issued efficiency warnings (效能告诫) in the office statistics: the staff and department rows
of the API, the page (Chinese and English) and the export count them; 0 for the others."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import login, page_login
from tests.support.ratings import rate, serve
from tests.support.regions import REGION_PASSWORD, region_office
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.clock import FixedClock

STATS = "/api/v1/halls/demo/stats"


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def warn_w1_and_police(hall: httpx.AsyncClient) -> None:
    """Three 差评 at window 1 (w1, 户籍 of 县公安局) propose two warnings; the office issues
    both. Window 5 (w5, 企业开办 of 县市场监管局) serves one citizen and is not warned."""
    for _ in range(3):
        ticket = await serve(hall, "hukou", 1)
        assert (await rate(hall, ticket["track_token"], 1, tags=["态度"])).status_code == 201
    await serve(hall, "qiye", 5)
    office = await login(hall, "office")
    proposed = await hall.post(
        "/api/v1/halls/demo/warnings/propose", json={"period": "2026-Q4"}, headers=office
    )
    assert proposed.status_code == 200, proposed.text
    subjects = {(w["subject"], w["key"]): w["id"] for w in proposed.json()}
    assert set(subjects) == {("staff", "w1"), ("department", "gongan")}
    for warning_id in subjects.values():
        issued = await hall.post(
            f"/api/v1/warnings/{warning_id}/issue",
            json={"reason": "本季度三次差评均经核实"},
            headers=office,
        )
        assert issued.status_code == 200, issued.text


async def rows(hall: httpx.AsyncClient, period: str, by: str) -> dict[str, Any]:
    office = await login(hall, "office")
    response = await hall.get(STATS, params={"period": period, "by": by}, headers=office)
    assert response.status_code == 200, response.text
    body = response.json()
    return {"total": body["total"], **{r["key"]: r for r in body["rows"]}}


async def test_issued_warnings_count_in_the_staff_and_department_rows(
    hall: httpx.AsyncClient,
) -> None:
    office = await login(hall, "office")
    await serve(hall, "hukou", 1)
    before = await rows(hall, "2026-11", "staff")
    assert before["w1"]["warnings"] == 0 and before["total"]["warnings"] == 0

    await warn_w1_and_police(hall)
    # a month and a day of the quarter show the quarter's warnings
    for period in ("2026-11", "2026-11-26", "2026-Q4"):
        staff = await rows(hall, period, "staff")
        assert staff["w1"]["warnings"] == 1 and staff["w5"]["warnings"] == 0, period
        assert staff["total"]["warnings"] == 1
        departments = await rows(hall, period, "department")
        assert departments["gongan"]["warnings"] == 1, period
        assert departments["shichang"]["warnings"] == 0
        assert departments["total"]["warnings"] == 1
    # services and windows are not warned: the figure is not theirs
    windows = await rows(hall, "2026-11", "window")
    assert windows["1"]["warnings"] is None and windows["total"]["warnings"] is None

    export = await hall.get(
        f"{STATS}/export", params={"period": "2026-11", "by": "staff"}, headers=office
    )
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    column = table[1].index("效能告诫 warnings")
    by_key = {row[0]: row[column] for row in table[2:]}
    assert by_key["w1"] == "1" and by_key["w5"] == "0"


async def test_the_page_shows_warnings_in_its_language(hall: httpx.AsyncClient) -> None:
    await warn_w1_and_police(hall)
    assert (await page_login(hall, "office")).status_code in (302, 303)
    chinese = (await hall.get("/office/stats?period=2026-11&by=department&lang=zh")).text
    header = chinese.split('id="stats-table"', 1)[1].split("</thead>", 1)[0]
    assert "效能告诫" in header and "Warnings" not in header
    police = chinese.split("县公安局</td>", 1)[1].split("</tr>", 1)[0]
    assert police.rstrip().endswith("<td>1</td>")
    english = (await hall.get("/office/stats?period=2026-11&by=staff&lang=en")).text
    header = english.split('id="stats-table"', 1)[1].split("</thead>", 1)[0]
    assert "Warnings" in header and "效能告诫" not in header
    # by service the column is not there
    services = (await hall.get("/office/stats?period=2026-11&by=service&lang=zh")).text
    assert "效能告诫" not in services.split('id="stats-table"', 1)[1].split("</table>", 1)[0]


async def test_a_region_office_sees_them_in_its_halls_rows(hall: httpx.AsyncClient) -> None:
    """The region's read-only drill-down into the hall shows the same rows (区域效能办)."""
    await warn_w1_and_police(hall)
    app = hall._transport.app  # type: ignore[attr-defined]
    region = await region_office(app, hall)
    drill = await hall.get(
        "/api/v1/regions/610102/halls/demo/stats",
        params={"period": "2026-11", "by": "staff"},
        headers=region,
    )
    assert drill.status_code == 200, drill.text
    assert {r["key"]: r["warnings"] for r in drill.json()["rows"]} == {"w1": 1, "w5": 0}
    assert (await page_login(hall, "region-office", REGION_PASSWORD)).status_code in (302, 303)
    page = await hall.get("/region/610102/halls/demo?period=2026-11&by=department&lang=en")
    assert page.status_code == 200, page.text
    header = page.text.split('id="region-hall-table"', 1)[1].split("</thead>", 1)[0]
    assert "Warnings" in header
