"""A region's office (区域效能办) sees its region's halls side by side, drills down into one
read-only, and nothing else; a hall's own office sees only its hall. On both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.support.client import login
from tests.support.regions import REGION_PASSWORD, make_regions
from tests.support.stats import busy_morning, open_hall
from window_service.admin.setup import create_hall
from window_service.clock import FixedClock
from window_service.db import create_database, utcnow
from window_service.transaction import Actor, Tx


@pytest.fixture
async def region_hall(
    db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    await make_regions(db_url)
    async with open_hall(db_url, tmp_path) as opened:
        yield opened


async def office_of(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    return await login(client, username, REGION_PASSWORD)


async def test_city_office_sees_its_halls_side_by_side(
    region_hall: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, clock = region_hall
    await busy_morning(client, clock)
    city = await office_of(client, "xian-office")
    response = await client.get("/api/v1/regions/610100/comparison?period=2026-11", headers=city)
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["region"], data["period"], data["kind"]) == ("610100", "2026-11", "month")
    assert [r["code"] for r in data["regions"]] == ["610100", "610102"]
    rows = {r["hall"]: r for r in data["halls"]}
    assert set(rows) == {"demo", "beilin"}  # 耀州 is another city's
    demo = rows["demo"]
    assert demo["region_name"] == "新城区"
    assert (demo["tickets"], demo["served"], demo["no_shows"]) == (4, 3, 1)
    # waits 10, 20, 26, 26 minutes (see busy_morning)
    assert demo["wait_minutes"] == {"mean": 20.5, "p90": 26.0}
    assert (demo["ratings"], demo["satisfaction"], demo["bad_rate"]) == (1, 0.0, 1.0)
    assert demo["rectifications"] == {"opened": 1, "open": 1, "overdue": 0}
    assert demo["stars"]["published"] is False
    assert demo["cases"] == 0 and demo["case_on_time_rate"] is None
    total = data["total"]
    assert (total["tickets"], total["wait_minutes"], total["ratings"]) == (
        4,
        demo["wait_minutes"],
        1,
    )
    assert total["rectifications"] == demo["rectifications"] and "stars" not in total
    empty = rows["beilin"]
    assert (empty["tickets"], empty["wait_minutes"], empty["satisfaction"]) == (
        0,
        {"mean": None, "p90": None},
        None,
    )

    # The same figures as the hall's own office statistics, drilled down read-only.
    office = await login(client, "office")
    own = (await client.get("/api/v1/halls/demo/stats?period=2026-11", headers=office)).json()[
        "total"
    ]
    drill = await client.get("/api/v1/regions/610100/halls/demo/stats?period=2026-11", headers=city)
    assert drill.status_code == 200, drill.text
    assert drill.json()["total"] == own
    assert (own["tickets"], own["wait_minutes"]["mean"], own["satisfaction"]) == (
        demo["tickets"],
        demo["wait_minutes"]["mean"],
        demo["satisfaction"],
    )
    assert own["wait_minutes"]["p90"] == pytest.approx(demo["wait_minutes"]["p90"], abs=0.1)

    # Days pass: the rectification's due day goes by, it is overdue now.
    clock.advance(days=40)
    later = (
        await client.get("/api/v1/regions/610100/comparison?period=2026-11", headers=city)
    ).json()
    assert {r["hall"]: r for r in later["halls"]}["demo"]["rectifications"]["overdue"] == 1

    quarter = await client.get("/api/v1/regions/610000/comparison?period=2026-Q4", headers=city)
    assert quarter.status_code == 403  # the province is above the city's office


async def test_each_office_sees_only_its_own(
    region_hall: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, _ = region_hall
    city = await office_of(client, "xian-office")
    county = await office_of(client, "xincheng-office")
    other = await office_of(client, "tongchuan-office")
    office = await login(client, "office")  # the demo hall's own 效能办

    async def status(headers: dict[str, str], path: str) -> int:
        return (await client.get(path, headers=headers)).status_code

    # a city's office sees the counties under it, not the city above or beside it
    assert await status(city, "/api/v1/regions/610102/comparison") == 200
    assert await status(county, "/api/v1/regions/610102/comparison") == 200
    assert await status(county, "/api/v1/regions/610100/comparison") == 403
    assert await status(other, "/api/v1/regions/610100/comparison") == 403
    assert await status(other, "/api/v1/regions/610200/halls/demo/stats") == 404
    assert await status(city, "/api/v1/regions/610100/halls/yaozhou/stats") == 404
    assert await status(city, "/api/v1/regions/999999/comparison") == 404
    # the hall's office sees its hall only; the region's office no hall endpoint of its own
    assert await status(office, "/api/v1/regions/610102/comparison") == 403
    assert await status(office, "/api/v1/halls/demo/stats") == 200
    assert await status(city, "/api/v1/halls/demo/stats") == 403
    assert await status(city, "/api/v1/rectifications") == 403
    county_view = (await client.get("/api/v1/regions/610102/comparison", headers=county)).json()
    assert [h["hall"] for h in county_view["halls"]] == ["demo"]
    detail = (await client.get("/api/v1/regions/610100", headers=city)).json()
    assert [h["code"] for h in detail["halls"]] == ["beilin", "demo"]
    # bad periods are the contract's 422, never a 500
    for bad in ("2026-13", "1999-01", "2026-11-05", "x"):
        r = await client.get(f"/api/v1/regions/610100/comparison?period={bad}", headers=city)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_period"


async def test_comparison_reads_the_same_statements_for_more_halls(
    region_hall: tuple[httpx.AsyncClient, FixedClock], db_url: str
) -> None:
    """Grouped queries over the halls: adding halls adds no statement."""
    client, clock = region_hall
    await busy_morning(client, clock)
    city = await office_of(client, "xian-office")
    app: Any = client._transport.app  # type: ignore[attr-defined]
    engine = app.state.core.db.read_engine.sync_engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    async def measured() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            r = await client.get("/api/v1/regions/610100/comparison?period=2026-11", headers=city)
            assert r.status_code == 200, r.text
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = await measured()
    db = create_database(db_url)
    try:
        for n in range(5):
            async with db.write() as session:
                tx = Tx(session, 0, utcnow(), Actor("test"))
                await create_hall(tx, code=f"more{n}", name=f"第{n}中心", region="610102")
                await tx.commit()
    finally:
        await db.dispose()
    after = await measured()
    r = await client.get("/api/v1/regions/610100/comparison?period=2026-11", headers=city)
    assert len(r.json()["halls"]) == 7
    assert after == before, statements
