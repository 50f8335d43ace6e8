"""星级评定: shrunk toward the hall mean, components and samples shown, published periods frozen.

The shrinkage tests lower the minimum evidence (``min_services``/``min_ratings``) so that a
window with three ratings gets a score at all; with the defaults it gets none (样本不足, see
tests/test_fair_verdicts.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.client import login
from tests.support.ratings import add_head, bulk_ratings, rate, serve, window_ids
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIER = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
#: The first hall day after November 2026 and its appeal window (5 working days to 7 Dec).
AFTER_APPEALS = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
FEW_SUFFICE = {"min_services": 0, "min_ratings": 3}
#: A typical window: 50 ratings averaging 4.0.
TYPICAL = [5] * 20 + [4] * 15 + [3] * 10 + [2] * 5


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def test_three_fives_do_not_beat_three_hundred_averaging_four_point_eight(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await bulk_ratings(db_url, 1, [5, 5, 5], EARLIER)
    await bulk_ratings(db_url, 2, [5] * 240 + [4] * 60, EARLIER)  # average 4.8
    for number in (3, 4, 5, 6, 7):
        await bulk_ratings(db_url, number, TYPICAL, EARLIER)
    office = await login(hall, "office")
    response = await hall.get(
        "/api/v1/halls/demo/ratings?period=2026-11&subject=window", headers=office
    )
    assert response.status_code == 200, response.text
    rows = {r["key"]: r for r in response.json()}
    # With the default minimum evidence three ratings make no star at all.
    assert rows["1"]["stars"] is None and rows["1"]["reason"] == "样本不足"
    assert rows["1"]["samples"]["ratings"] == 3 and rows["1"]["samples"]["services"] == 3
    await hall.put("/api/v1/halls/demo/accountability-config", json=FEW_SUFFICE, headers=office)
    response = await hall.get(
        "/api/v1/halls/demo/ratings?period=2026-11&subject=window", headers=office
    )
    rows = {r["key"]: r for r in response.json()}
    few, many = rows["1"], rows["2"]
    assert many["score"] > few["score"]
    assert many["rank"] < few["rank"]
    assert few["samples"]["satisfaction"] == 3 and many["samples"]["satisfaction"] == 300
    assert few["raw"]["satisfaction"] == 100.0 and many["raw"]["satisfaction"] == 96.0
    # The shrunk component sits between the prior (hall mean, at most 80) and its own mean.
    assert few["hall_means"]["satisfaction"] > 80
    assert few["components"]["satisfaction"] == pytest.approx((3 * 100 + 10 * 80) / 13, abs=0.01)
    assert 96 > many["components"]["satisfaction"] > 95
    assert set(many["components"]) == {"satisfaction", "inspection", "time_limit", "conduct"}
    assert all(0 <= r["score"] <= 100 and 1 <= r["stars"] <= 5 for r in rows.values())
    assert few["published"] is False
    # Window 8 has no data at all: no star.
    assert "8" not in rows


async def test_few_top_ratings_lose_even_when_the_hall_has_only_those_two_windows(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await bulk_ratings(db_url, 1, [5, 5, 5], EARLIER)
    await bulk_ratings(db_url, 2, [5] * 240 + [4] * 60, EARLIER)
    office = await login(hall, "office")
    await hall.put("/api/v1/halls/demo/accountability-config", json=FEW_SUFFICE, headers=office)
    rows = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11", headers=office)).json()
    assert [r["key"] for r in rows] == ["2", "1"]
    assert rows[0]["stars"] == 5 and rows[1]["stars"] == 4  # three 5s do not make ★5
    # Without the cap (prior = the hall mean, 96) the three 5s would come first.
    await hall.put(
        "/api/v1/halls/demo/accountability-config", json={"prior_cap": 100}, headers=office
    )
    uncapped = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11", headers=office)).json()
    assert [r["key"] for r in uncapped] == ["1", "2"]
    assert rows[0]["config_version"] == 1 and uncapped[0]["config_version"] == 2


async def test_components_weights_and_stars(hall: httpx.AsyncClient, db_url: str) -> None:
    await bulk_ratings(db_url, 1, [5] * 100, EARLIER)
    await bulk_ratings(db_url, 2, [1] * 100, EARLIER)
    office = await login(hall, "office")
    ids = await window_ids(hall)
    scores = {
        "on_duty": 20,
        "attitude": 20,
        "appearance": 10,
        "one_time_notice": 15,
        "efficiency": 15,
        "fees": 10,
        "integrity": 10,
    }
    recorded = await hall.post(
        "/api/v1/inspections",
        json={
            "window": ids[1],
            "staff": "w1",
            "visited_at": "2026-11-20T10:00:00+08:00",
            "template": "standard",
            "scores": scores,
            "notes": "",
        },
        headers=office,
    )
    assert recorded.status_code == 201
    rows = {
        r["key"]: r
        for r in (
            await hall.get(
                "/api/v1/halls/demo/ratings?period=2026-11&subject=staff", headers=office
            )
        ).json()
    }
    assert rows["w1"]["samples"]["inspection"] == 1
    assert rows["w1"]["stars"] > rows["w2"]["stars"]
    assert rows["w2"]["stars"] == 1
    # The office changes the weights (audited, versioned): inspections only.
    changed = await hall.put(
        "/api/v1/halls/demo/accountability-config",
        json={"weights": {"satisfaction": 0, "inspection": 100, "time_limit": 0, "conduct": 0}},
        headers=office,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 1
    rows = {
        r["key"]: r
        for r in (
            await hall.get(
                "/api/v1/halls/demo/ratings?period=2026-11&subject=staff", headers=office
            )
        ).json()
    }
    # Only w1 was visited (100): shrunk toward the capped prior 80. w2 has no visit: its
    # inspection component is left out, never filled with the hall mean, so nothing it has
    # data for carries weight and it gets no score.
    assert rows["w1"]["score"] == pytest.approx((100 + 10 * 80) / 11, abs=0.01)
    assert rows["w2"]["score"] is None and rows["w2"]["stars"] is None
    assert rows["w2"]["components"]["inspection"] is None
    bad = await hall.put(
        "/api/v1/halls/demo/accountability-config",
        json={"thresholds": [60, 70, 80, 90]},
        headers=office,
    )
    assert bad.status_code == 422
    assert (
        await hall.put(
            "/api/v1/halls/demo/accountability-config",
            json={"weights": {"luck": 5}},
            headers=office,
        )
    ).status_code == 422
    assert (
        await hall.put(
            "/api/v1/halls/demo/accountability-config",
            json={"shrink_k": 5},
            headers=await login(hall, "w1"),
        )
    ).status_code == 403
    config = (await hall.get("/api/v1/halls/demo/accountability-config", headers=office)).json()
    assert config["settings"]["weights"]["inspection"] == 100


async def test_department_ratings_use_department_codes(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await bulk_ratings(db_url, 3, TYPICAL, EARLIER)
    office = await login(hall, "office")
    rows = (
        await hall.get(
            "/api/v1/halls/demo/ratings?period=2026-Q4&subject=department", headers=office
        )
    ).json()
    assert [r["key"] for r in rows] == ["ziranziyuan"]
    assert rows[0]["samples"]["satisfaction"] == 50
    assert (
        await hall.get("/api/v1/halls/demo/ratings?period=2026-Q5", headers=office)
    ).status_code == 422
    assert (
        await hall.get("/api/v1/halls/demo/ratings?subject=hall", headers=office)
    ).status_code == 422


async def test_published_ratings_are_frozen(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    await bulk_ratings(db_url, 1, [2] * 20 + [3] * 30, EARLIER)
    await bulk_ratings(db_url, 2, [5] * 30, EARLIER)
    office = await login(hall, "office")
    # Before publication: anonymous and window staff are refused, the office sees live rows.
    assert (await hall.get("/api/v1/halls/demo/ratings?period=2026-11")).status_code == 403
    w1 = await login(hall, "w1")
    assert (
        await hall.get("/api/v1/halls/demo/ratings?period=2026-11", headers=w1)
    ).status_code == 403
    clock.set(AFTER_APPEALS)
    live = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11", headers=office)).json()
    assert all(r["published"] is False for r in live)
    # Only inspectors publish.
    assert (
        await hall.post(
            "/api/v1/halls/demo/ratings/publish", json={"period": "2026-11"}, headers=w1
        )
    ).status_code == 403
    published = await hall.post(
        "/api/v1/halls/demo/ratings/publish", json={"period": "2026-11"}, headers=office
    )
    assert published.status_code == 201, published.text
    assert published.json()["settings"]["weights"]["satisfaction"] == 40
    frozen = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11")).json()
    assert all(r["published"] is True for r in frozen)
    assert [(r["key"], r["score"]) for r in frozen] == [(r["key"], r["score"]) for r in live]
    # More (bad) ratings and a new weighting later: the published period does not change.
    for _ in range(3):
        ticket = await serve(hall, "budongchan", 3)
        assert (await rate(hall, ticket["track_token"], 1)).status_code == 201
    await bulk_ratings(db_url, 2, [1] * 40, EARLIER, service_code="shebao")
    await hall.put(
        "/api/v1/halls/demo/accountability-config", json={"shrink_k": 100}, headers=office
    )
    after = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11")).json()
    assert after == frozen
    again = await hall.post(
        "/api/v1/halls/demo/ratings/publish", json={"period": "2026-11"}, headers=office
    )
    assert again.status_code == 409
    assert "已公示" in again.json()["error"]["message"]
    publications = (await hall.get("/api/v1/halls/demo/ratings/publications")).json()
    assert [p["period"] for p in publications] == ["2026-11"]
    # A period that has not started cannot be published.
    early = await hall.post(
        "/api/v1/halls/demo/ratings/publish", json={"period": "2027-01"}, headers=office
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "period_not_over"
    # The board shows the published stars.
    board = (await hall.get("/api/v1/halls/demo/board")).json()
    assert board["period"] == "2026-11"
    stars = {p["username"]: p["stars"] for p in board["staff"]}
    frozen_staff = (
        await hall.get("/api/v1/halls/demo/ratings?period=2026-11&subject=staff")
    ).json()
    assert stars["w1"] == next(r["stars"] for r in frozen_staff if r["key"] == "w1")
    assert stars["w8"] is None
    assert [p["username"] for p in board["red"]] == ["w2"]
    assert [p["username"] for p in board["black"]] == ["w1"]
    assert {s["code"] for s in board["services"]} == {
        "hukou",
        "budongchan",
        "qiye",
        "shebao",
        "shuiwu",
    }


async def test_publication_is_in_the_audit_record(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    for rating in (5, 2):
        ticket = await serve(hall)
        assert (await rate(hall, ticket["track_token"], rating)).status_code == 201
    clock.set(AFTER_APPEALS)
    office = await login(hall, "office")
    await hall.put("/api/v1/halls/demo/accountability-config", json={"shrink_k": 5}, headers=office)
    published = await hall.post(
        "/api/v1/halls/demo/ratings/publish", json={"period": "2026-11"}, headers=office
    )
    assert published.status_code == 201
    assert published.json()["config_version"] == 1 and published.json()["settings"]["shrink_k"] == 5
    # Feedback, its rectification, the settings and every frozen row: an intact record.
    assert await verify_command(db_url) == 0


async def test_heads_see_only_their_departments_before_publication(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await add_head(db_url, "head_land", "ziranziyuan")
    await bulk_ratings(db_url, 1, TYPICAL, EARLIER)
    await bulk_ratings(db_url, 3, TYPICAL, EARLIER)
    head = await login(hall, "head_land")
    for subject, keys in (("window", ["3"]), ("staff", ["w3"]), ("department", ["ziranziyuan"])):
        rows = (
            await hall.get(
                f"/api/v1/halls/demo/ratings?period=2026-11&subject={subject}", headers=head
            )
        ).json()
        assert [r["key"] for r in rows] == keys, subject
    office = await login(hall, "office")
    everything = (
        await hall.get("/api/v1/halls/demo/ratings?period=2026-11", headers=office)
    ).json()
    assert {r["key"] for r in everything} == {"1", "3"}


async def test_time_limit_and_conduct_come_from_the_cases_figures(hall: httpx.AsyncClient) -> None:
    """A case accepted and completed on time at window 1 counts in its time-limit component."""
    ticket = await issue_and_serve_for_case(hall)
    office = await login(hall, "office")
    rows = {
        r["key"]: r
        for r in (
            await hall.get(
                "/api/v1/halls/demo/ratings?period=2026-11&subject=window", headers=office
            )
        ).json()
    }
    assert rows["1"]["samples"]["time_limit"] == 1
    assert rows["1"]["raw"]["time_limit"] == 100.0
    assert rows["1"]["samples"]["conduct"] >= 1  # the ticket served, within its wait target
    assert ticket["number"]


async def issue_and_serve_for_case(hall: httpx.AsyncClient) -> dict[str, object]:
    from tests.support.client import issue

    ticket = await issue(hall)
    staff = await login(hall, "w1")
    ids = await window_ids(hall)
    assert (
        await hall.post(f"/api/v1/windows/{ids[1]}/call-next", headers=staff)
    ).status_code == 200
    assert (
        await hall.post(f"/api/v1/tickets/{ticket['id']}/start", headers=staff)
    ).status_code == 200
    case = await hall.post(
        f"/api/v1/tickets/{ticket['id']}/case",
        json={"applicant_name": "王五", "applicant_phone": "13900000000"},
        headers=staff,
    )
    assert case.status_code == 201, case.text
    done = await hall.post(f"/api/v1/cases/{case.json()['receipt_no']}/complete", headers=staff)
    assert done.status_code == 200, done.text
    return ticket
