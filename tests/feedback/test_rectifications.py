"""整改工单: every bad rating opens one for the department head, due in working days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import login
from tests.support.ratings import add_head, rate, serve
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.clock import FixedClock


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def test_bad_ratings_open_rectifications_due_in_working_days(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    good = await serve(hall)
    bad = await serve(hall)
    worse = await serve(hall, "budongchan", 3)
    assert (await rate(hall, good["track_token"], 3)).status_code == 201
    assert (await rate(hall, bad["track_token"], 2, comment="态度生硬")).status_code == 201
    # Friday 27 Nov: five working days later is Friday 4 Dec (the weekend does not count).
    clock.advance(days=1)
    assert (await rate(hall, worse["track_token"], 1, contact="13800000000")).status_code == 201
    office = await login(hall, "office")
    response = await hall.get("/api/v1/rectifications?status=open", headers=office)
    assert response.status_code == 200
    rows = response.json()
    assert [(r["ticket"], r["window"], r["rating"], r["due"], r["status"]) for r in rows] == [
        (bad["number"], 1, 2, "2026-12-03", "open"),
        (worse["number"], 3, 1, "2026-12-04", "open"),
    ]
    assert rows[0]["comment"] == "态度生硬" and rows[1]["has_contact"] is True
    assert "13800000000" not in response.text  # the phone only on an audited request
    assert not any(r["overdue"] for r in rows)
    # Past the due day (hall date) the open ones are flagged overdue.
    clock.set(clock.now().replace(day=4, month=12, hour=9))
    rows = (await hall.get("/api/v1/rectifications?overdue=true", headers=office)).json()
    assert [r["ticket"] for r in rows] == [bad["number"]]


async def test_head_verifies_fixes_and_calls_back(hall: httpx.AsyncClient) -> None:
    ticket = await serve(hall)
    assert (await rate(hall, ticket["track_token"], 1)).status_code == 201
    head = await login(hall, "head")
    rect = (await hall.get("/api/v1/rectifications", headers=head)).json()[0]
    base = f"/api/v1/rectifications/{rect['id']}"
    # Steps in order only.
    early = await hall.post(
        f"{base}/callback", json={"reached": True, "citizen_view": "satisfied"}, headers=head
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "wrong_stage"
    verified = await hall.post(
        f"{base}/verify",
        json={"finding": "经核实，窗口人员解释不耐心", "substantiated": True},
        headers=head,
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["stage"] == "fix"
    fixed = await hall.post(
        f"{base}/fix", json={"measures": "批评教育，组织服务礼仪培训"}, headers=head
    )
    assert fixed.json()["stage"] == "callback"
    missing_view = await hall.post(f"{base}/callback", json={"reached": True}, headers=head)
    assert missing_view.status_code == 422
    done = await hall.post(
        f"{base}/callback",
        json={"reached": True, "citizen_view": "satisfied", "note": "群众表示认可"},
        headers=head,
    )
    assert done.status_code == 200
    assert done.json()["status"] == "closed" and done.json()["citizen_view"] == "satisfied"
    again = await hall.post(f"{base}/fix", json={"measures": "再次"}, headers=head)
    assert again.status_code == 409
    assert (await hall.get("/api/v1/rectifications?status=open", headers=head)).json() == []
    figures = (await hall.get("/api/v1/halls/demo/feedback/figures?period=2026-11")).json()
    assert figures["callback_rate"] == 100.0


async def test_heads_see_and_progress_only_their_departments(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await add_head(db_url, "head_gongan", "gongan")
    hukou = await serve(hall)
    land = await serve(hall, "budongchan", 3)
    for ticket in (hukou, land):
        assert (await rate(hall, ticket["track_token"], 2)).status_code == 201
    own = await login(hall, "head_gongan")
    rows = (await hall.get("/api/v1/rectifications", headers=own)).json()
    assert [r["department"] for r in rows] == ["gongan"]
    office_rows = (
        await hall.get("/api/v1/rectifications", headers=await login(hall, "office"))
    ).json()
    assert len(office_rows) == 2
    other = next(r for r in office_rows if r["department"] == "ziranziyuan")
    refused = await hall.post(
        f"/api/v1/rectifications/{other['id']}/verify",
        json={"finding": "不是我部门", "substantiated": False},
        headers=own,
    )
    assert refused.status_code == 403
    assert (await hall.get(f"/api/v1/rectifications/{other['id']}", headers=own)).status_code == 403
    # The office sees but does not progress; window staff see nothing.
    office_step = await hall.post(
        f"/api/v1/rectifications/{other['id']}/verify",
        json={"finding": "代办", "substantiated": False},
        headers=await login(hall, "office"),
    )
    assert office_step.status_code == 403
    assert (
        await hall.get("/api/v1/rectifications", headers=await login(hall, "w1"))
    ).status_code == 403
    assert (await hall.get("/api/v1/rectifications")).status_code == 401
    assert (await hall.get("/api/v1/rectifications/999999", headers=own)).status_code == 404


async def test_overdue_work_orders_are_flagged_once(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    from sqlalchemy import func, select

    from window_service.audit.verify import verify_command
    from window_service.feedback.watch import watch_rectifications
    from window_service.ledger import AuditRecord

    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    state = app.state.core
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        ticket = await serve(c)
        assert (await rate(c, ticket["track_token"], 1)).status_code == 201

        async def flagged() -> int:
            async with state.db.read() as session:
                return int(
                    (
                        await session.execute(
                            select(func.count()).where(
                                AuditRecord.action == "rectification.overdue"
                            )
                        )
                    ).scalar_one()
                )

        await watch_rectifications(state)
        assert await flagged() == 0  # due Thursday 3 Dec: not yet
        clock.set(clock.now().replace(month=12, day=4))
        await watch_rectifications(state)
        await watch_rectifications(state)
        assert await flagged() == 1  # once, however often the job runs
        rows = (await c.get("/api/v1/rectifications", headers=await login(c, "office"))).json()
        assert rows[0]["overdue"] is True
    await state.db.dispose()
    assert await verify_command(db_url) == 0


async def test_the_callback_phone_is_shown_only_on_request_and_each_view_is_audited(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    from sqlalchemy import select

    from window_service.db import create_database
    from window_service.ledger import AuditRecord

    worse = await serve(hall, "budongchan", 3)
    quiet = await serve(hall)
    assert (await rate(hall, worse["track_token"], 1, contact="13800000000")).status_code == 201
    assert (await rate(hall, quiet["track_token"], 2)).status_code == 201
    office = await login(hall, "office")
    rows = (await hall.get("/api/v1/rectifications?status=open", headers=office)).json()
    with_phone = next(r for r in rows if r["has_contact"])
    without = next(r for r in rows if not r["has_contact"])
    shown = await hall.post(f"/api/v1/rectifications/{with_phone['id']}/contact", headers=office)
    assert shown.status_code == 200 and shown.json()["contact"] == "13800000000"
    none = await hall.post(f"/api/v1/rectifications/{without['id']}/contact", headers=office)
    assert none.status_code == 409 and none.json()["error"]["code"] == "no_contact"
    staff = await login(hall, "w3")
    refused = await hall.post(f"/api/v1/rectifications/{with_phone['id']}/contact", headers=staff)
    assert refused.status_code == 403
    db = create_database(db_url)
    try:
        async with db.read() as session:
            views = list(
                (
                    await session.execute(
                        select(AuditRecord).where(AuditRecord.action == "feedback.contact_viewed")
                    )
                ).scalars()
            )
    finally:
        await db.dispose()
    assert len(views) == 1 and views[0].actor == "user:office"
    assert "13800000000" not in str(views[0].after)
