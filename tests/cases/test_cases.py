"""办件: acceptance, deadlines, correction notices, warnings, lookup and roles."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.cases import accept, add_head, at, client_for, clocked_app, serving
from tests.support.client import login
from window_service.audit.verify import verify_all
from window_service.clock import FixedClock


async def test_accept_case_from_the_ticket_being_served(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        ticket, headers = await serving(c, "hukou", 1)
        body = {"applicant_name": "张小三", "applicant_phone": "13800138000"}
        # Another window's staff cannot accept it.
        w2 = await login(c, "w2")
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/case", json=body, headers=w2)
        assert r.status_code == 403
        r = await c.post(
            f"/api/v1/tickets/{ticket['id']}/case",
            json={**body, "applicant_phone": "call me"},
            headers=headers,
        )
        assert r.status_code == 422
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/case", json=body, headers=headers)
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["receipt_no"] == "DEMO-20261126-0001"
        assert re.fullmatch(r"\d{6}", case["check_code"])
        assert case["service"] == "hukou"
        assert case["accepted_at"].startswith("2026-11-26T10:00:00+08:00")
        # Thursday + 5 working days (counting from Friday) = Thursday 3 December.
        assert case["promised_due"] == "2026-12-03"
        assert case["legal_due"] == "2026-12-24"
        assert case["status"] == "accepted"
        assert case["warning"] is None
        assert case["first_responder"] == "w1"
        assert case["provisional"] is False
        # A second case on the same ticket gets the next number.
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/case", json=body, headers=headers)
        assert r.json()["receipt_no"] == "DEMO-20261126-0002"


async def test_only_a_ticket_being_served_opens_a_case(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        from tests.support.cases import call
        from tests.support.client import issue

        ticket = await issue(c, "hukou")
        headers = await login(c, "w1")
        await call(c, 1, headers)
        r = await c.post(
            f"/api/v1/tickets/{ticket['id']}/case",
            json={"applicant_name": "李四", "applicant_phone": "13800138000"},
            headers=headers,
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "invalid_state"


async def test_immediate_case_is_due_at_closing_time(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(at(2026, 11, 26, 15, 0))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, _ = await accept(c, "shuiwu", 7)
        assert case["promised_due"] == "2026-11-26T17:30:00+08:00"
        assert case["legal_due"] == "2026-11-26T17:30:00+08:00"
        office = await login(c, "office")
        assert case["warning"] is None
        clock.set(at(2026, 11, 26, 16, 45))
        r = await c.get("/api/v1/cases", params={"warning": "yellow"}, headers=office)
        assert [x["receipt_no"] for x in r.json()] == [case["receipt_no"]]
        clock.set(at(2026, 11, 26, 17, 31))
        r = await c.get("/api/v1/cases", params={"warning": "red"}, headers=office)
        assert [x["warning"] for x in r.json()] == ["red"]


async def test_correction_stops_the_clock_and_a_second_notice_is_a_breach(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c)
        no = case["receipt_no"]
        r = await c.post(f"/api/v1/cases/{no}/correction", json={"materials": []}, headers=w1)
        assert r.status_code == 422
        r = await c.post(f"/api/v1/cases/{no}/correction", json={"materials": [" "]}, headers=w1)
        assert r.status_code == 422
        # Friday: one working day used, then the clock stops.
        clock.set(at(2026, 11, 27, 9))
        r = await c.post(
            f"/api/v1/cases/{no}/correction",
            json={"materials": ["户口簿原件", "近期免冠照片"]},
            headers=w1,
        )
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["status"] == "correction" and data["clock_stopped"] is True
        assert data["notices"][0]["materials"] == ["户口簿原件", "近期免冠照片"]
        assert data["notices"][0]["breach"] is False
        # Materials arrive Tuesday 1 December: Monday and Tuesday did not count; counting
        # restarts Wednesday, so the promised deadline moves from 3 to 7 December.
        clock.set(at(2026, 12, 1, 11))
        r = await c.post(f"/api/v1/cases/{no}/resume", headers=w1)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["status"] == "accepted"
        assert data["promised_due"] == "2026-12-07"
        assert data["stopped_days"] == 2
        # Resuming a running clock is refused.
        assert (await c.post(f"/api/v1/cases/{no}/resume", headers=w1)).status_code == 409
        # A second notice is still recorded, and flagged as a breach of 一次性告知.
        r = await c.post(
            f"/api/v1/cases/{no}/correction", json={"materials": ["遗漏的证明"]}, headers=w1
        )
        assert r.status_code == 200
        data = r.json()
        assert [n["breach"] for n in data["notices"]] == [False, True]
        assert data["breaches"] == 1
        assert "breach" in [e["action"] for e in data["events"]]
        r = await c.post(f"/api/v1/cases/{no}/resume", headers=w1)
        assert r.json()["promised_due"] == "2026-12-07"  # same day: nothing stopped
        r = await c.post(f"/api/v1/cases/{no}/complete", headers=w1)
        assert r.status_code == 200
        assert r.json()["status"] == "completed" and r.json()["on_time"] is True
        assert (await c.post(f"/api/v1/cases/{no}/complete", headers=w1)).status_code == 409
        # Every step is in the hash-chained audit record, and the rows match it.
        async with app.state.core.db.read() as session:
            assert await verify_all(session) is None


async def test_warnings_follow_the_clock_and_roles(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    await add_head(db_url, "head_gongan", "gongan")
    await add_head(db_url, "head_shuiwu", "shuiwu")
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c)  # due Thursday 3 December
        office = await login(c, "office")
        r = await c.get("/api/v1/cases", params={"warning": "yellow"}, headers=w1)
        assert r.status_code == 403
        assert (await c.get("/api/v1/cases", params={"warning": "yellow"})).status_code == 401
        assert (
            await c.get("/api/v1/cases", params={"warning": "yellow"}, headers=office)
        ).json() == []
        clock.set(at(2026, 12, 2, 9))  # one working day left
        r = await c.get("/api/v1/cases", params={"warning": "yellow"}, headers=office)
        assert [x["receipt_no"] for x in r.json()] == [case["receipt_no"]]
        assert r.json()[0]["working_days_left"] == 1
        assert (
            await c.get("/api/v1/cases", params={"warning": "red"}, headers=office)
        ).json() == []
        # The window's own list (本窗口在办办件) shows the warning to its staff.
        from tests.support.cases import window_ids

        ids = await window_ids(c)
        mine = await c.get(f"/api/v1/windows/{ids[1]}/cases", headers=w1)
        assert [(x["receipt_no"], x["warning"]) for x in mine.json()] == [
            (case["receipt_no"], "yellow")
        ]
        w2 = await login(c, "w2")
        assert (await c.get(f"/api/v1/windows/{ids[1]}/cases", headers=w2)).status_code == 403
        assert (await c.get(f"/api/v1/windows/{ids[2]}/cases", headers=w2)).json() == []
        clock.set(at(2026, 12, 4, 9))  # deadline passed
        r = await c.get("/api/v1/cases", params={"warning": "red"}, headers=office)
        assert [x["warning"] for x in r.json()] == ["red"]
        # Heads see their own departments only.
        own = await login(c, "head_gongan")
        other = await login(c, "head_shuiwu")
        r = await c.get("/api/v1/cases", params={"warning": "red"}, headers=own)
        assert len(r.json()) == 1
        r = await c.get("/api/v1/cases", params={"warning": "red"}, headers=other)
        assert r.json() == []
        assert (
            await c.get(f"/api/v1/cases/{case['receipt_no']}", headers=other)
        ).status_code == 403
        r = await c.get("/api/v1/cases", params={"warning": "purple"}, headers=office)
        assert r.status_code == 422


async def test_extension_by_the_head_and_rejection_with_a_reason(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    await add_head(db_url, "head_shuiwu", "shuiwu")
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c)
        no = case["receipt_no"]
        body = {"days": 5, "reason": "需要实地核查"}
        assert (
            await c.post(f"/api/v1/cases/{no}/extend", json=body, headers=w1)
        ).status_code == 403
        other = await login(c, "head_shuiwu")
        assert (
            await c.post(f"/api/v1/cases/{no}/extend", json=body, headers=other)
        ).status_code == 403
        head = await login(c, "head")
        r = await c.post(f"/api/v1/cases/{no}/extend", json={"days": 5}, headers=head)
        assert r.status_code == 422
        r = await c.post(f"/api/v1/cases/{no}/extend", json=body, headers=head)
        assert r.status_code == 200, r.text
        assert r.json()["promised_due"] == "2026-12-10"
        assert r.json()["legal_due"] == "2026-12-31"
        assert r.json()["extension_days"] == 5
        ext = next(e for e in r.json()["events"] if e["action"] == "extended")
        assert ext["staff"] == "head" and ext["detail"]["reason"] == "需要实地核查"
        assert (await c.post(f"/api/v1/cases/{no}/reject", json={}, headers=w1)).status_code == 422
        r = await c.post(
            f"/api/v1/cases/{no}/reject", json={"reason": "不符合落户条件"}, headers=w1
        )
        assert r.status_code == 200
        assert r.json()["status"] == "rejected"
        assert r.json()["decision_reason"] == "不符合落户条件"


async def test_public_lookup_masks_and_leaks_nothing(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, _ = await accept(c, name="张小三")
        r = await c.get(
            "/api/v1/cases/lookup",
            params={"receipt_no": case["receipt_no"], "check_code": case["check_code"]},
        )
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["applicant_name"] == "张*三"
        assert data["promised_due"] == "2026-12-03" and data["status"] == "accepted"
        assert "13800138000" not in r.text and "check_code" not in data
        wrong_code = "000000" if case["check_code"] != "000000" else "111111"
        wrong = await c.get(
            "/api/v1/cases/lookup",
            params={"receipt_no": case["receipt_no"], "check_code": wrong_code},
        )
        unknown = await c.get(
            "/api/v1/cases/lookup",
            params={"receipt_no": "DEMO-20261126-9999", "check_code": wrong_code},
        )
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json() == unknown.json()
        missing = await c.get("/api/v1/cases/lookup", params={"receipt_no": case["receipt_no"]})
        assert missing.status_code == 404 and missing.json() == unknown.json()
        # Two-character names keep the family name only.
        case2, _ = await accept(c, "hukou", 2, name="李四")
        r = await c.get(
            "/api/v1/cases/lookup",
            params={"receipt_no": case2["receipt_no"], "check_code": case2["check_code"]},
        )
        assert r.json()["applicant_name"] == "李*"


async def test_deadline_into_an_unentered_year_is_provisional_until_entered(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(at(2026, 12, 28, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w3 = await accept(c, "budongchan", 3)
        assert case["provisional"] is True
        # Monday 28 December + 5 weekdays, 1 January 2027 counted as a weekday: 4 January.
        assert case["promised_due"] == "2027-01-04"
        office = await login(c, "office")
        status = (await c.get("/api/v1/calendar", headers=office)).json()
        assert 2027 in status["missing_years"] and status["provisional_cases"] == 1
        assert "2027" in status["message"]
        year = {
            "holidays": [
                {"date": "2027-01-01", "name": "元旦"},
                "2027-01-02",
                "2027-01-03",
                *[f"2027-02-{d:02d}" for d in range(5, 12)],
            ],
            "workdays": [{"date": "2027-02-13", "name": "春节调休"}],
            "note": "国务院办公厅通知",
        }
        assert (
            await c.put("/api/v1/calendar/years/2027", json=year, headers=office)
        ).status_code == 403
        admin = await login(c, "admin")
        bad = {**year, "workdays": ["2027-02-15"]}  # a Monday is no make-up day
        assert (
            await c.put("/api/v1/calendar/years/2027", json=bad, headers=admin)
        ).status_code == 422
        bad = {**year, "holidays": ["2026-10-01"]}
        assert (
            await c.put("/api/v1/calendar/years/2027", json=bad, headers=admin)
        ).status_code == 422
        r = await c.put("/api/v1/calendar/years/2027", json=year, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["recomputed"] == 1
        r = await c.get(f"/api/v1/cases/{case['receipt_no']}", headers=w3)
        data = r.json()
        assert data["provisional"] is False
        assert data["promised_due"] == "2027-01-05"
        assert "recomputed" in [e["action"] for e in data["events"]]
        status = (await c.get("/api/v1/calendar", headers=office)).json()
        assert status["missing_years"] == [] and status["message"] is None
        assert status["entered_years"] == [2027]
        async with app.state.core.db.read() as session:
            assert await verify_all(session) is None
        days = (await c.get("/api/v1/calendar/years/2027", headers=office)).json()
        assert days["source"] == "entered" and days["days"][0]["name"] == "元旦"
        official = (await c.get("/api/v1/calendar/years/2026", headers=office)).json()
        assert official["source"] == "official"
        assert {"date": "2026-10-10", "working": True, "name": "国庆节"} in official["days"]


async def test_receipt_numbers_under_concurrent_acceptance(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Eight windows accept at the same moment: 0001 … 0008, no duplicate, no gap."""
    import asyncio

    from tests.support.cases import call
    from tests.support.client import issue

    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        for service in (
            "hukou",
            "hukou",
            "budongchan",
            "budongchan",
            "qiye",
            "shebao",
            "shuiwu",
            "hukou",
        ):
            await issue(c, service)
        served = []
        for window in range(1, 9):
            headers = await login(c, f"w{window}")
            ticket = await call(c, window, headers)
            assert (
                await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=headers)
            ).status_code == 200
            served.append((ticket, headers))
        responses = await asyncio.gather(
            *(
                c.post(
                    f"/api/v1/tickets/{ticket['id']}/case",
                    json={"applicant_name": f"申请人{i}", "applicant_phone": "13800138000"},
                    headers=headers,
                )
                for i, (ticket, headers) in enumerate(served)
            )
        )
        assert [r.status_code for r in responses] == [201] * 8
        numbers = sorted(r.json()["receipt_no"] for r in responses)
        assert numbers == [f"DEMO-20261126-{n:04d}" for n in range(1, 9)]


async def test_hostile_receipt_numbers_are_404_not_500(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        office = await login(c, "office")
        for odd in ("%00abc", "DEMO%2520x", "a" * 65, "张三"):
            r = await c.get(f"/api/v1/cases/{odd}", headers=office)
            assert r.status_code == 404, (odd, r.text)
        r = await c.get(
            "/api/v1/cases/lookup", params={"receipt_no": "DEMO\u2028", "check_code": "1"}
        )
        assert r.status_code == 404
        page = await c.get("/lookup", params={"receipt_no": "ab\u00a0c", "check_code": "1"})
        assert page.status_code == 404
        w1 = await login(c, "w1")
        r = await c.post(
            "/api/v1/consultations",
            json={"service": "hukou", "summary": "x", "ticket": 2**40},
            headers=w1,
        )
        assert r.status_code == 422


async def test_rejection_during_a_correction_closes_the_stop(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c)
        no = case["receipt_no"]
        clock.set(at(2026, 11, 27, 9))
        await c.post(f"/api/v1/cases/{no}/correction", json={"materials": ["户口簿"]}, headers=w1)
        clock.set(at(2026, 12, 1, 9))  # Monday and Tuesday stood still
        r = await c.post(
            f"/api/v1/cases/{no}/reject", json={"reason": "逾期未补正材料"}, headers=w1
        )
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["status"] == "rejected" and data["stopped_days"] == 2
        assert data["promised_due"] == "2026-12-07" and data["on_time"] is True
        assert data["notices"][0]["resumed_at"] is not None
        assert data["notices"][0]["stopped_days"] == 2
        async with app.state.core.db.read() as session:
            assert await verify_all(session) is None
