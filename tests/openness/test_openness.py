"""Openness (政务公开): decided cases in public (办件结果公示) and fees in public (收费公开)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.cases import at, client_for, clocked_app, office_events, serving
from tests.support.client import login
from window_service.audit.verify import verify_all
from window_service.clock import FixedClock
from window_service.figures import case_figures
from window_service.openness.fees import fee_breaches, parse_standard_text

RESULTS = "/api/v1/halls/demo/results"


async def accept(
    c: httpx.AsyncClient, service: str = "hukou", window: int = 1, name: str = "张小三"
) -> tuple[dict[str, Any], dict[str, str]]:
    """A case accepted (受理) at ``window``, its ticket finished so the window is free."""
    ticket, headers = await serving(c, service, window)
    r = await c.post(
        f"/api/v1/tickets/{ticket['id']}/case",
        json={"applicant_name": name, "applicant_phone": "13800138000"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    finished = await c.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "accepted"}, headers=headers
    )
    assert finished.status_code == 200, finished.text
    return r.json(), headers


async def test_decided_cases_are_public_from_their_decision_with_the_name_masked(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(at(2026, 11, 26, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        done, w1 = await accept(c, name="张小三")
        refused, _ = await accept(c, name="欧阳小明")
        still_open, _ = await accept(c, name="李四")
        # Nothing is decided yet: nothing is public.
        r = await c.get(RESULTS, params={"from": "2026-11-20", "to": "2026-11-30"})
        assert r.status_code == 200 and r.json() == []
        clock.set(at(2026, 11, 27, 9, 30))
        assert (
            await c.post(f"/api/v1/cases/{done['receipt_no']}/complete", headers=w1)
        ).status_code == 200
        clock.set(at(2026, 11, 27, 11))
        r = await c.post(
            f"/api/v1/cases/{refused['receipt_no']}/reject",
            json={"reason": "不符合落户条件，申请人张小明"},
            headers=w1,
        )
        assert r.status_code == 200
        # Listed at once, from the decision on (well within the 7 working days).
        r = await c.get(RESULTS, params={"from": "2026-11-27", "to": "2026-11-27"})
        assert r.status_code == 200
        rows = r.json()
        assert [(x["receipt_no"], x["decision"], x["applicant"]) for x in rows] == [
            (refused["receipt_no"], "rejected", "欧**明"),
            (done["receipt_no"], "approved", "张*三"),
        ]
        assert rows[1]["service"] == "hukou"
        assert rows[1]["decided_at"] == "2026-11-27T09:30:00+08:00"
        text = r.text
        for secret in ("13800138000", done["check_code"], refused["check_code"], "张小三"):
            assert secret not in text
        assert "不符合落户条件" not in text  # the reasoning may name people
        assert still_open["receipt_no"] not in text
        # Days before the decision do not list it; defaults end today.
        r = await c.get(RESULTS, params={"from": "2026-11-20", "to": "2026-11-26"})
        assert r.json() == []
        assert len((await c.get(RESULTS)).json()) == 2
        # The public page shows the same, masked, in Chinese.
        page = await c.get("/results/demo", params={"from": "2026-11-27", "to": "2026-11-27"})
        assert page.status_code == 200
        assert "办件结果公示" in page.text and "张*三" in page.text
        assert "张小三" not in page.text and "13800138000" not in page.text
        # The notice board shows the latest results.
        board = await c.get("/board/demo")
        assert board.status_code == 200
        assert refused["receipt_no"] in board.text and "欧**明" in board.text


async def test_bad_result_ranges_are_refused(client: httpx.AsyncClient) -> None:
    for params in (
        {"from": "2026-11-30", "to": "2026-11-01"},  # reversed
        {"from": "2026-01-01", "to": "2026-12-31"},  # longer than 92 days
        {"from": "2026-13-01"},  # not a date
        {"to": "nonsense"},
        {"from": "2999-01-01", "to": "2999-01-02"},  # far beyond the hall's life
    ):
        r = await client.get(RESULTS, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] in ("invalid_period", "invalid_query")
    assert (await client.get("/api/v1/halls/nowhere/results")).status_code == 404
    assert (await client.get("/results/nowhere")).status_code == 404
    page = await client.get("/results/demo", params={"from": "2026-11-30", "to": "2026-11-01"})
    assert page.status_code == 422 and "开始日期不能晚于结束日期" in page.text


async def set_fee(c: httpx.AsyncClient, code: str, body: dict[str, object]) -> httpx.Response:
    admin = await login(c, "admin")
    return await c.put(f"/api/v1/halls/demo/services/{code}/fee", json=body, headers=admin)


async def test_fee_standards_are_public_and_set_by_the_admin(client: httpx.AsyncClient) -> None:
    r = await set_fee(
        client,
        "budongchan",
        {
            "free": False,
            "items": [{"name": "复印费", "unit": "页", "max_unit_cents": 50}],
            "basis": "县发改委收费文件",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "复印费 0.50元/页"
    assert (await set_fee(client, "hukou", {"free": True})).status_code == 200
    # Contradictions are refused: a free service with items, a paid one without.
    assert (
        await set_fee(
            client, "hukou", {"free": True, "items": [{"name": "x", "max_unit_cents": 1}]}
        )
    ).status_code == 422
    assert (await set_fee(client, "qiye", {"free": False})).status_code == 422
    assert (await set_fee(client, "nope", {"free": True})).status_code == 404
    office = await login(client, "office")
    r = await client.put(
        "/api/v1/halls/demo/services/hukou/fee", json={"free": True}, headers=office
    )
    assert r.status_code == 403
    fees = {f["service"]: f for f in (await client.get("/api/v1/halls/demo/fees")).json()}
    assert fees["hukou"]["text"] == "不收费" and fees["hukou"]["free"] is True
    assert fees["budongchan"]["items"][0]["max_unit_yuan"] == "0.50"
    assert fees["qiye"]["set"] is False
    # The notice board shows every service's standard.
    board = (await client.get("/board/demo")).text
    assert "复印费 0.50元/页" in board and "不收费" in board


async def test_charges_above_the_standard_or_on_free_services_are_flagged(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(at(2026, 11, 26, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        await set_fee(
            c,
            "budongchan",
            {"free": False, "items": [{"name": "复印费", "unit": "页", "max_unit_cents": 50}]},
        )
        await set_fee(c, "hukou", {"free": True})
        # Within the standard: 20 pages at 0.50 元 = 10.00 元. Not flagged.
        ticket, w3 = await serving(c, "budongchan", 3)
        charge = {"amount_cents": 1000, "item": "复印费", "quantity": 20, "receipt_no": "FS0001"}
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=charge, headers=w3)
        assert r.status_code == 201, r.text
        assert r.json()["breach"] is None and r.json()["allowed_cents"] == 1000
        # The archive office's example: copies charged at 2 元 a page.
        over = {**charge, "amount_cents": 4000, "receipt_no": "FS0002"}
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=over, headers=w3)
        assert r.status_code == 201 and r.json()["breach"] == "above_standard"
        # An item the standard does not list.
        extra = {"amount_cents": 500, "item": "资料费", "receipt_no": "FS0003"}
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=extra, headers=w3)
        assert r.json()["breach"] == "not_in_standard"
        # A charge on a free service, on the case at its completion.
        case, w1 = await accept(c, "hukou", 1)
        r = await c.post(
            f"/api/v1/cases/{case['receipt_no']}/charges",
            json={"amount_cents": 1000, "item": "工本费", "receipt_no": "FS0004"},
            headers=w1,
        )
        assert r.status_code == 201, r.text
        assert r.json()["breach"] == "free_service" and r.json()["case"] == case["receipt_no"]
        # The office was told at once, and lists the flags; window staff may not.
        flags = await office_events(app, "office.fee_flag")
        assert [f["breach"] for f in flags] == ["above_standard", "not_in_standard", "free_service"]
        office = await login(c, "office")
        rows = (await c.get("/api/v1/fee-flags", headers=office)).json()
        assert [(x["receipt_no"], x["window"]) for x in rows] == [
            ("FS0004", 1),
            ("FS0003", 3),
            ("FS0002", 3),
        ]
        assert (await c.get("/api/v1/fee-flags", headers=w1)).status_code == 403
        # Counted in the figures (and for the stars): per window, staff member, department.
        fig = (await c.get("/api/v1/fee-flags/figures", headers=office)).json()
        assert fig["total"] == 3
        assert fig["by_window"] == {"1": 1, "3": 2}
        assert fig["by_staff"] == {"w1": 1, "w3": 2}
        async with app.state.core.db.read() as session:
            counted = await fee_breaches(
                session, 1, at(2026, 11, 1).date(), at(2026, 11, 30).date()
            )
        assert counted.total == 3 and counted.by_window == {1: 1, 3: 2}
        # The office's page shows them too; window staff do not see it.
        page = await c.get("/office/openness", headers=office)
        assert page.status_code == 200
        assert "FS0002" in page.text and "超标准收费" in page.text and "免费事项收费" in page.text
        assert 'id="fee-breach-total">3<' in page.text
        assert (await c.get("/office/openness", headers=w1)).status_code == 403
        # A charge typed in error is voided by the office with a reason, and no longer counts.
        wrong = rows[1]["id"]
        void = f"/api/v1/fee-charges/{wrong}/void"
        assert (await c.post(void, json={"reason": "x"}, headers=w1)).status_code == 403
        assert (await c.post(void, json={}, headers=office)).status_code == 422
        r = await c.post(void, json={"reason": "录入错误，实为标准内收费"}, headers=office)
        assert r.status_code == 200 and r.json()["voided"] is True
        assert (await c.post(void, json={"reason": "again"}, headers=office)).status_code == 409
        r = await c.post("/api/v1/fee-charges/999999/void", json={"reason": "x"}, headers=office)
        assert r.status_code == 404
        fig = (await c.get("/api/v1/fee-flags/figures", headers=office)).json()
        assert fig["total"] == 2 and fig["by_window"] == {"1": 1, "3": 1}
        # Standards and charges are in the hash-chained audit record, and the rows match it.
        async with app.state.core.db.read() as session:
            assert await verify_all(session) is None


async def test_charges_are_recorded_only_by_the_window_on_its_tickets(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(at(2026, 11, 26, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        ticket, w3 = await serving(c, "budongchan", 3)
        charge = {"amount_cents": 100, "item": "复印费", "receipt_no": "FS1"}
        w4 = await login(c, "w4")
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=charge, headers=w4)
        assert r.status_code == 403
        for bad in ({**charge, "amount_cents": 0}, {**charge, "receipt_no": ""}, {"item": "x"}):
            r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=bad, headers=w3)
            assert r.status_code == 422, bad
        r = await c.post("/api/v1/tickets/999999/charges", json=charge, headers=w3)
        assert r.status_code == 404
        # No standard set: shown to the office, counted against nobody.
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=charge, headers=w3)
        assert r.status_code == 201 and r.json()["breach"] == "no_standard"
        office = await login(c, "office")
        fig = (await c.get("/api/v1/fee-flags/figures", headers=office)).json()
        assert fig["total"] == 0
        assert len((await c.get("/api/v1/fee-flags", headers=office)).json()) == 1
        # A waiting ticket cannot be charged.
        from tests.support.client import issue

        waiting = await issue(c, "budongchan")
        r = await c.post(f"/api/v1/tickets/{waiting['id']}/charges", json=charge, headers=w3)
        assert r.status_code in (403, 409)


def test_fee_text_of_the_hall_import_as_a_standard() -> None:
    assert parse_standard_text("不收费") == (True, [])
    assert parse_standard_text("复印费 0.5元/页；工本费：10元/本") == (
        False,
        [
            {"name": "复印费", "unit": "页", "max_unit_cents": 50},
            {"name": "工本费", "unit": "本", "max_unit_cents": 1000},
        ],
    )
    assert parse_standard_text("登记费80元") == (
        False,
        [{"name": "登记费", "unit": "次", "max_unit_cents": 8000}],
    )
    # Text a charge cannot be checked against stays text only.
    assert parse_standard_text("按国家规定收取") is None
    assert parse_standard_text("") is None


async def test_a_fee_breach_counts_against_the_window_in_its_stars(
    db_url: str, tmp_path: Path
) -> None:
    """乱收费 is a breach of conduct: the star rating's evidence names it for the window."""
    clock = FixedClock(at(2026, 11, 26, 10))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        await set_fee(c, "hukou", {"free": True})
        ticket, w1 = await serving(c, "hukou", 1)
        charge = {"amount_cents": 1000, "item": "工本费", "receipt_no": "FS0101"}
        r = await c.post(f"/api/v1/tickets/{ticket['id']}/charges", json=charge, headers=w1)
        assert r.status_code == 201 and r.json()["breach"] == "free_service"
        first, last = at(2026, 11, 1).date(), at(2026, 11, 30).date()
        async with app.state.core.db.read() as session:
            by_window = await case_figures(session, 1, first, last, "window", clock.now())
            by_staff = await case_figures(session, 1, first, last, "staff", clock.now())
        assert by_window["1"].breaches == 1
        assert by_staff["w1"].breaches == 1
        assert by_window.get("3") is None or by_window["3"].breaches == 0
        office = await login(c, "office")
        rows = (
            await c.get(
                "/api/v1/halls/demo/ratings",
                params={"period": "2026-11", "subject": "window"},
                headers=office,
            )
        ).json()
        row = next(x for x in rows if x["key"] == "1")
        assert row["evidence"]["breaches"] == 1
