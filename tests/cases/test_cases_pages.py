"""Pages of cases: printable receipt and notice, public lookup, office dashboard, terminal hook."""

from __future__ import annotations

from pathlib import Path

from tests.support.cases import accept, at, client_for, clocked_app
from tests.support.client import issue, login
from window_service.clock import FixedClock


async def test_receipt_and_notice_pages(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c, name="张小三")
        no = case["receipt_no"]
        page = await c.get(f"/cases/{no}/receipt", headers=w1)
        assert page.status_code == 200
        html = page.text
        assert "受理回执" in html and no in html and case["check_code"] in html
        assert "2026年12月3日" in html and "2026年12月24日" in html
        assert "<svg" in html and "张小三" in html
        assert "张伟" in html  # w1's name as the accepting staff member
        assert (await c.get(f"/cases/{no}/receipt")).status_code in (302, 303)
        w3 = await login(c, "w3")  # 不动产 window: not this case
        assert (await c.get(f"/cases/{no}/receipt", headers=w3)).status_code == 403
        assert (await c.get("/cases/DEMO-20990101-0001/receipt", headers=w1)).status_code == 404
        await c.post(
            f"/api/v1/cases/{no}/correction",
            json={"materials": ["户口簿原件", "出生医学证明"]},
            headers=w1,
        )
        page = await c.get(f"/cases/{no}/notices/1", headers=w1)
        assert page.status_code == 200
        assert "一次性告知" in page.text and "出生医学证明" in page.text
        assert (await c.get(f"/cases/{no}/notices/2", headers=w1)).status_code == 404
        assert (await c.get(f"/cases/{no}/notices/x", headers=w1)).status_code == 404


async def test_public_lookup_page(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, _ = await accept(c, name="张小三")
        form = await c.get("/lookup")
        assert form.status_code == 200 and 'name="check_code"' in form.text
        ok = await c.get(
            "/lookup", params={"receipt_no": case["receipt_no"], "check_code": case["check_code"]}
        )
        assert ok.status_code == 200
        assert "张*三" in ok.text and "张小三" not in ok.text and "13800138000" not in ok.text
        assert "办理中" in ok.text and "2026年12月3日" in ok.text
        wrong = await c.get("/lookup", params={"receipt_no": case["receipt_no"], "check_code": "x"})
        unknown = await c.get("/lookup", params={"receipt_no": "NOPE", "check_code": "x"})
        assert wrong.status_code == unknown.status_code == 404
        assert "受理编号或查询码不正确" in wrong.text and "张*三" not in wrong.text


async def test_office_dashboard(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(at(2026, 12, 28, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        overdue, _ = await accept(c, "hukou", 1)
        provisional, _ = await accept(c, "budongchan", 3)
        clock.set(at(2027, 1, 8, 10))
        waiting = await issue(c, "qiye")
        clock.set(at(2027, 1, 8, 10, 30))  # waited 30 minutes, target 20
        office = await login(c, "office")
        page = await c.get("/office/cases", headers=office)
        assert page.status_code == 200
        html = page.text
        assert "办件时限监督" in html and overdue["receipt_no"] in html
        assert "红牌" in html
        assert 'id="calendar-reminder"' in html and "2027" in html
        assert "/static/cases_office.js" in html
        for table in ("by-window", "by-staff", "by-department", "by-service"):
            assert f'id="{table}"' in html
        live = html.split('id="live-breaches"', 1)[1].split("</table>", 1)[0]
        assert waiting["number"] in live and "等候超时" in live
        partial = await c.get("/office/cases", params={"partial": "1"}, headers=office)
        assert partial.status_code == 200 and "<html" not in partial.text
        assert overdue["receipt_no"] in partial.text
        w1 = await login(c, "w1")
        assert (await c.get("/office/cases", headers=w1)).status_code == 403
        home = await c.get("/office", headers=office)
        assert "/office/cases" in home.text
        terminal = await c.get("/terminal", headers=w1)
        assert terminal.status_code == 200 and 'id="case-accept"' in terminal.text
        assert provisional["provisional"] is True


async def test_case_page_shows_history_chain_and_actions_by_role(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        case, w1 = await accept(c)
        no = case["receipt_no"]
        await c.post(f"/api/v1/cases/{no}/correction", json={"materials": ["照片"]}, headers=w1)
        page = await c.get(f"/cases/{no}", headers=w1)
        assert page.status_code == 200
        html = page.text
        assert "首问负责链" in html and 'id="chain-first">w1<' in html
        assert "补正告知" in html and "照片" in html
        assert 'data-case-action="resume"' in html and 'data-case-action="extend"' not in html
        head = await login(c, "head")
        assert 'data-case-action="extend"' in (await c.get(f"/cases/{no}", headers=head)).text
        office = await login(c, "office")
        office_page = await c.get(f"/cases/{no}", headers=office)
        assert office_page.status_code == 200 and "data-case-action" not in office_page.text
        assert (await c.get(f"/cases/{no}", headers=await login(c, "w3"))).status_code == 403


async def test_calendar_page(db_url: str, tmp_path: Path, clock: FixedClock) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        admin = await login(c, "admin")
        page = await c.get("/office/calendar", headers=admin)
        assert page.status_code == 200
        # 26 November 2026: deadlines soon reach 2027, which nobody has entered yet.
        assert 'id="calendar-form"' in page.text and 'id="calendar-reminder"' in page.text
        assert 'value="2027"' in page.text
        office = await login(c, "office")
        page = await c.get("/office/calendar", params={"year": "2026"}, headers=office)
        assert page.status_code == 200 and 'id="calendar-form"' not in page.text
        assert "国庆节" in page.text and "2026-10-10" in page.text
        w1 = await login(c, "w1")
        assert (await c.get("/office/calendar", headers=w1)).status_code == 403
