"""Efficiency warnings (效能告诫): repeated breaches in a quarter propose a formal warning, the
office issues or declines it with a reason, and an issued one is printable and counted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.ratings import rate, serve, window_ids
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock

PROPOSE = "/api/v1/halls/demo/warnings/propose"
LIST = "/api/v1/halls/demo/warnings"
#: A visit scoring 40 of 100: failed (below 80).
FAILED_VISIT = {
    "on_duty": 0,
    "attitude": 5,
    "appearance": 5,
    "one_time_notice": 5,
    "efficiency": 5,
    "fees": 10,
    "integrity": 10,
}


@pytest.fixture
async def hall_and_app(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The demo hall's client and its app; the night watch's memory of this process starts
    and ends empty."""
    from window_service.efficiency import watch

    watch._last_run.clear()
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c, app
    await app.state.core.db.dispose()
    watch._last_run.clear()


@pytest.fixture
def hall(hall_and_app: tuple[httpx.AsyncClient, Any]) -> httpx.AsyncClient:
    return hall_and_app[0]


async def bad_ratings(hall: httpx.AsyncClient, n: int, window: int = 1) -> None:
    for _ in range(n):
        ticket = await serve(hall, "hukou", window)
        assert (await rate(hall, ticket["track_token"], 1, tags=["态度"])).status_code == 201


async def failed_visit(hall: httpx.AsyncClient, window: int, staff: str) -> None:
    ids = await window_ids(hall)
    recorded = await hall.post(
        "/api/v1/inspections",
        json={
            "window": ids[window],
            "staff": staff,
            "visited_at": "2026-11-20T10:00:00+08:00",
            "template": "standard",
            "scores": FAILED_VISIT,
            "notes": "",
        },
        headers=await login(hall, "office"),
    )
    assert recorded.status_code == 201, recorded.text


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["subject"], r["key"]): r for r in rows}


async def test_three_bad_ratings_propose_a_warning_the_office_issues_once(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    office = await login(hall, "office")
    await bad_ratings(hall, 2)
    assert (await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)).json() == []
    await bad_ratings(hall, 1)
    proposed = await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)
    assert proposed.status_code == 200, proposed.text
    rows = by_key(proposed.json())
    staff = rows[("staff", "w1")]
    assert staff["grounds"]["bad_ratings"] == 3 and staff["status"] == "proposed"
    assert staff["thresholds"] == {
        "bad_ratings": 3,
        "failed_inspections": 2,
        "notice_breaches": 2,
    }
    assert rows[("department", "gongan")]["grounds"]["bad_ratings"] == 3
    # Proposing again changes nothing: one warning per subject and quarter.
    assert (await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)).json() == []
    listed = (await hall.get(LIST, params={"period": "2026-Q4"}, headers=office)).json()
    assert len(listed) == len(rows)

    no_reason = await hall.post(
        f"/api/v1/warnings/{staff['id']}/issue", json={"reason": " "}, headers=office
    )
    assert no_reason.status_code == 422, no_reason.text
    issued = await hall.post(
        f"/api/v1/warnings/{staff['id']}/issue",
        json={"reason": "本季度三次差评均经核实"},
        headers=office,
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["status"] == "issued" and body["serial"] == "2026-001"
    assert body["reason"] == "本季度三次差评均经核实" and body["decided_by"]
    again = await hall.post(
        f"/api/v1/warnings/{staff['id']}/decline", json={"reason": "重复"}, headers=office
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "warning_decided"

    issued_only = await hall.get(LIST, params={"status": "issued"}, headers=office)
    assert [w["key"] for w in issued_only.json()] == ["w1"]
    assert await verify_command(db_url) == 0


async def test_failed_inspections_propose_and_the_office_may_decline(
    hall: httpx.AsyncClient,
) -> None:
    office = await login(hall, "office")
    await failed_visit(hall, 2, "w2")
    await failed_visit(hall, 2, "w2")
    rows = by_key((await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)).json())
    staff = rows[("staff", "w2")]
    assert staff["grounds"]["failed_inspections"] == 2
    declined = await hall.post(
        f"/api/v1/warnings/{staff['id']}/decline",
        json={"reason": "两次暗访均因系统故障，已另行说明"},
        headers=office,
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert declined.json()["serial"] is None


async def test_thresholds_are_the_halls_settings(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    changed = await hall.put(
        "/api/v1/halls/demo/accountability-config",
        json={"warn_bad_ratings": 1, "reason": "试行从严"},
        headers=office,
    )
    assert changed.status_code in (200, 201), changed.text
    await bad_ratings(hall, 1)
    rows = by_key((await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)).json())
    assert rows[("staff", "w1")]["thresholds"]["bad_ratings"] == 1


async def test_who_may_see_and_decide(hall: httpx.AsyncClient) -> None:
    staff = await login(hall, "w1")
    for method, path, body in (
        ("GET", LIST, None),
        ("POST", PROPOSE, {"period": "2026-Q4"}),
        ("POST", "/api/v1/warnings/1/issue", {"reason": "x"}),
    ):
        r = await hall.request(method, path, json=body, headers=staff)
        assert r.status_code == 403, (path, r.text)
    admin = await login(hall, "admin")
    assert (await hall.get(LIST, headers=admin)).status_code == 200
    denied = await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=admin)
    assert denied.status_code == 403
    office = await login(hall, "office")
    month = await hall.post(PROPOSE, json={"period": "2026-11"}, headers=office)
    assert month.status_code == 422 and month.json()["error"]["code"] == "invalid_period"
    missing = await hall.post("/api/v1/warnings/999/issue", json={"reason": "x"}, headers=office)
    assert missing.status_code == 404


async def test_the_office_page_and_the_printed_warning(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    await bad_ratings(hall, 3)
    rows = by_key((await hall.post(PROPOSE, json={"period": "2026-Q4"}, headers=office)).json())
    wid = rows[("staff", "w1")]["id"]
    await hall.post(f"/api/v1/warnings/{wid}/issue", json={"reason": "经核实"}, headers=office)

    form = await hall.get("/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', form.text)
    assert token
    signed_in = await hall.post(
        "/login",
        data={"username": "office", "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    assert signed_in.status_code in (200, 303), signed_in.text
    page = await hall.get("/office/warnings?period=2026-Q4")
    assert page.status_code == 200 and "效能告诫" in page.text and "已下发" in page.text
    printed = await hall.get(f"/office/warnings/{wid}/print")
    assert printed.status_code == 200, printed.text
    assert "效能告诫书" in printed.text and "告诫〔2026〕001号" in printed.text
    assert "查实差评 3 次" in printed.text and "经核实" in printed.text
    english = await hall.get(f"/office/warnings/{wid}/print?lang=en")
    assert english.status_code == 200
    assert (await hall.get("/office/warnings/99999/print")).status_code == 404


async def test_housekeeping_proposes_once_a_night(
    hall_and_app: tuple[httpx.AsyncClient, Any], clock: FixedClock
) -> None:
    """Reading a quarter is office-sized work: never in the hall's opening hours (it would take
    the cores the windows need), once a night per hall from 20:00 hall time."""
    from window_service.efficiency import watch

    hall, app = hall_and_app
    office = await login(hall, "office")
    await bad_ratings(hall, 3)
    await watch.propose_warnings(app.state.core)  # 10:00: the hall is open
    assert (await hall.get(LIST, headers=office)).json() == []
    clock.set(clock.now().replace(hour=20, minute=5))
    await watch.propose_warnings(app.state.core)
    listed = (await hall.get(LIST, headers=office)).json()
    assert [(w["subject"], w["status"]) for w in listed if w["key"] == "w1"] == [
        ("staff", "proposed")
    ]
    await bad_ratings(hall, 1)  # a fourth, late
    clock.advance(hours=8)  # 04:05 the next morning: the same night, nothing read
    await watch.propose_warnings(app.state.core)
    [w1] = [w for w in (await hall.get(LIST, headers=office)).json() if w["key"] == "w1"]
    assert w1["grounds"] == listed[0]["grounds"]
    clock.advance(hours=17)  # 21:05: the next night brings the grounds up to date
    await watch.propose_warnings(app.state.core)
    [w1] = [w for w in (await hall.get(LIST, headers=office)).json() if w["key"] == "w1"]
    assert w1["grounds"] != listed[0]["grounds"]


async def test_one_process_does_a_halls_night(
    hall_and_app: tuple[httpx.AsyncClient, Any],
    db_url: str,
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two processes on one database: the first to claim the night reads the quarter, the
    other skips it; a run that fails gives the night back, and a later pass does it."""
    from window_service.efficiency import watch

    read: list[str] = []
    propose = watch.propose

    async def counted(tx: Any, hall: Any, period: Any) -> Any:
        read.append(hall.code)
        if len(read) == 1:
            raise RuntimeError("the database went away")
        return await propose(tx, hall, period)

    monkeypatch.setattr(watch, "propose", counted)
    hall, first = hall_and_app
    second = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    try:
        office = await login(hall, "office")
        await bad_ratings(hall, 3)
        clock.set(clock.now().replace(hour=20, minute=5))
        with pytest.raises(RuntimeError):
            await watch.propose_warnings(first.state.core)
        assert (await hall.get(LIST, headers=office)).json() == []
        watch._last_run.clear()  # the second process has not looked at this night yet
        await watch.propose_warnings(second.state.core)  # takes the night given back
        assert read == ["demo", "demo"]
        assert "w1" in [w["key"] for w in (await hall.get(LIST, headers=office)).json()]
        watch._last_run.clear()
        await watch.propose_warnings(first.state.core)  # claimed: nothing read
        assert read == ["demo", "demo"]
    finally:
        await second.state.core.db.dispose()
