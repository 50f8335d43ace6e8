"""Commitments watched live: case warnings and queue-target breaches reach the office once;
compliance figures per window, staff member, department and service."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.support.cases import accept, at, call, client_for, clocked_app, office_events
from tests.support.client import issue, login
from window_service.cases.figures import compliance
from window_service.cases.watch import watch_commitments
from window_service.clock import FixedClock


async def test_case_warnings_are_announced_once_per_crossing(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, _ = await accept(c)  # promised by Thursday 3 December
        state = app.state.core
        await watch_commitments(state)
        assert await office_events(app, "office.case_warning") == []
        clock.set(at(2026, 12, 2, 9))
        await watch_commitments(state)
        await watch_commitments(state)
        events = await office_events(app, "office.case_warning")
        assert [(e["receipt_no"], e["level"]) for e in events] == [(case["receipt_no"], "yellow")]
        clock.set(at(2026, 12, 4, 9))
        await watch_commitments(state)
        await watch_commitments(state)
        events = await office_events(app, "office.case_warning")
        assert [e["level"] for e in events] == ["yellow", "red"]
        assert events[1]["window"] == 1 and events[1]["promised_due"] == "2026-12-03"
        # red is the last word on a deadline; an extension moves it, and it warns again
        clock.set(at(2026, 12, 8, 9))
        await watch_commitments(state)
        assert len(await office_events(app, "office.case_warning")) == 2
        head = await login(c, "head")
        r = await c.post(
            f"/api/v1/cases/{case['receipt_no']}/extend",
            json={"days": 5, "reason": "需要实地核查"},
            headers=head,
        )
        assert r.status_code == 200, r.text
        due = r.json()["promised_due"]
        clock.set(at(2026, 12, 30, 9))
        await watch_commitments(state)
        await watch_commitments(state)
        events = await office_events(app, "office.case_warning")
        assert [(e["level"], e["promised_due"]) for e in events[2:]] == [("red", due)]


async def test_wait_and_service_time_breaches(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        state = app.state.core
        first = await issue(c, "hukou")  # 10:00
        clock.set(at(2026, 11, 26, 10, 15))
        await issue(c, "hukou")
        await watch_commitments(state)
        assert await office_events(app, "office.wait_breach") == []
        clock.set(at(2026, 11, 26, 10, 25))  # the first has waited 25 min > 20
        await watch_commitments(state)
        await watch_commitments(state)
        events = await office_events(app, "office.wait_breach")
        assert [(e["ticket"], e["waited_minutes"]) for e in events] == [(first["number"], 25)]
        w1 = await login(c, "w1")
        await call(c, 1, w1)
        await c.post(f"/api/v1/tickets/{first['id']}/start", headers=w1)
        clock.set(at(2026, 11, 26, 10, 45))  # served 20 min > 15; the second waited 30
        await watch_commitments(state)
        await watch_commitments(state)
        assert [e["ticket"] for e in await office_events(app, "office.service_breach")] == [
            first["number"]
        ]
        assert len(await office_events(app, "office.wait_breach")) == 2
        office = await login(c, "office")
        assert (
            await c.get("/api/v1/accountability/queue-commitments", headers=w1)
        ).status_code == 403
        r = await c.get("/api/v1/accountability/queue-commitments", headers=office)
        assert r.status_code == 200, r.text
        rows = r.json()["rows"]
        assert len(rows) == 1
        row = rows[0]
        assert row["service"] == "hukou" and row["day"] == "2026-11-26"
        assert row["tickets"] == 2 and row["wait_breaches"] == 2
        assert row["served"] == 1 and row["service_breaches"] == 1
        assert row["wait_target_minutes"] == 20


async def test_compliance_figures(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        early, w1 = await accept(c, "hukou", 1)
        late, w2 = await accept(c, "hukou", 2)
        clock.set(at(2026, 11, 30, 10))  # two working days used of five: early
        r = await c.post(f"/api/v1/cases/{early['receipt_no']}/complete", headers=w1)
        assert r.json()["on_time"] is True
        clock.set(at(2026, 12, 4, 10))  # a day after the promised deadline
        r = await c.post(f"/api/v1/cases/{late['receipt_no']}/complete", headers=w2)
        assert r.json()["on_time"] is False
        # Used by the ratings: a plain function over a session.
        async with app.state.core.db.read() as session:
            hall_id = 1
            figures = await compliance(
                session,
                hall_id,
                date(2026, 11, 1),
                date(2026, 12, 31),
                by="window",
                now=clock.now(),
            )
        assert figures[1].on_time_rate == 1.0 and figures[1].early_rate == 1.0
        assert figures[1].average_working_days == 2.0
        assert figures[2].on_time_rate == 0.0 and figures[2].overdue == 1
        assert figures[2].average_working_days == 6.0
        office = await login(c, "office")
        r = await c.get(
            "/api/v1/accountability/figures",
            params={"by": "service", "start": "2026-11-01", "end": "2026-12-31"},
            headers=office,
        )
        assert r.status_code == 200, r.text
        rows = {row["key"]: row for row in r.json()["rows"]}
        assert rows["hukou"]["cases"] == 2 and rows["hukou"]["on_time_rate"] == 0.5
        assert rows["hukou"]["early_rate"] == 0.5
        r = await c.get(
            "/api/v1/accountability/figures",
            params={"by": "department", "start": "2026-12-31", "end": "2026-11-01"},
            headers=office,
        )
        assert r.status_code == 422
        r = await c.get(
            "/api/v1/accountability/figures", params={"by": "department"}, headers=office
        )
        assert r.status_code == 200
        assert (await c.get("/api/v1/accountability/figures", headers=w1)).status_code == 403
