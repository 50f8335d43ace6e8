"""Every domain's writes are audited: after a day touching tickets, cases, corrections,
feedback, appeals, rectifications, inspections, star ratings and configuration, every current
row of every audited table matches its last audit record, and `audit verify` passes.

A write that skipped ``tx.audit`` (or changed a row after its audit snapshot) fails here with
the table and row named.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.client import issue, login
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_all
from window_service.clock import FixedClock


async def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.url}: {response.text}"
    )
    return response.json() if response.content else None


async def serve_ticket(
    client: httpx.AsyncClient, window: int, service: str, outcome: str, case: bool = False
) -> dict[str, Any]:
    ticket = await issue(client, service)
    staff = await login(client, f"w{window}")
    called = await ok(await client.post(f"/api/v1/windows/{window}/call-next", headers=staff))
    await ok(await client.post(f"/api/v1/tickets/{called['id']}/start", headers=staff))
    if case:
        created = await ok(
            await client.post(
                f"/api/v1/tickets/{called['id']}/case",
                json={"applicant_name": "王小明", "applicant_phone": "13800000000"},
                headers=staff,
            ),
            201,
        )
        ticket["case"] = created
    await ok(
        await client.post(
            f"/api/v1/tickets/{called['id']}/finish", json={"outcome": outcome}, headers=staff
        )
    )
    return ticket


async def test_a_day_across_domains_verifies(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as client:
            await run_day(client, clock)
        async with app.state.core.db.read() as session:
            breach = await verify_all(session)
    finally:
        await app.state.core.db.dispose()
    assert breach is None, breach.describe()


async def run_day(client: httpx.AsyncClient, clock: FixedClock) -> None:
    w1, head = await login(client, "w1"), await login(client, "head")
    office, admin = await login(client, "office"), await login(client, "admin")
    # cases: accepted, one-time correction, resumed, completed
    served = await serve_ticket(client, 1, "hukou", "accepted", case=True)
    receipt = served["case"]["receipt_no"]
    await ok(
        await client.post(
            f"/api/v1/cases/{receipt}/correction", json={"materials": ["户口簿原件"]}, headers=w1
        )
    )
    clock.advance(days=1)
    await ok(await client.post(f"/api/v1/cases/{receipt}/resume", headers=w1))
    await ok(
        await client.post(f"/api/v1/cases/{receipt}/complete", json={"note": "已办结"}, headers=w1)
    )

    # feedback: a bad rating opens a rectification; the head works it through
    rated = await serve_ticket(client, 3, "budongchan", "completed")
    await ok(
        await client.post(
            f"/api/v1/track/{rated['track_token']}/feedback",
            json={"rating": 1, "comment": "态度差"},
        ),
        201,
    )
    rectifications = await ok(await client.get("/api/v1/rectifications?status=open", headers=head))
    assert rectifications, "a 差评 opens a rectification"
    rid = rectifications[0]["id"]
    await ok(
        await client.post(
            f"/api/v1/rectifications/{rid}/verify",
            json={"finding": "属实", "substantiated": True},
            headers=head,
        )
    )
    await ok(
        await client.post(
            f"/api/v1/rectifications/{rid}/fix", json={"measures": "批评教育"}, headers=head
        )
    )
    await ok(
        await client.post(
            f"/api/v1/rectifications/{rid}/callback",
            json={"reached": True, "citizen_view": "satisfied"},
            headers=head,
        )
    )

    # an appeal against a malicious rating, voided by the office with the reason kept
    other = await serve_ticket(client, 6, "shebao", "completed")
    await ok(
        await client.post(f"/api/v1/track/{other['track_token']}/feedback", json={"rating": 2}), 201
    )
    feedback = await ok(await client.get("/api/v1/halls/demo/feedback", headers=office))
    items = (
        feedback
        if isinstance(feedback, list)
        else feedback.get("items", feedback.get("feedback", []))
    )
    target = next((f for f in items if f.get("rating") == 2), None)
    assert target is not None, feedback
    appeal = await ok(
        await client.post(
            f"/api/v1/feedback/{target['id']}/appeals",
            json={"reason": "恶意差评，录像为证"},
            headers=head,
        ),
        201,
    )
    await ok(
        await client.post(
            f"/api/v1/appeals/{appeal['id']}/decision",
            json={"accept": True, "reason": "核实为恶意评价"},
            headers=office,
        )
    )

    # an undercover visit below the line issues a notice
    templates = await ok(await client.get("/api/v1/inspection-templates", headers=office))
    template = templates[0]
    scores = {item["code"]: item["max_points"] / 2 for item in template["items"]}
    windows = await ok(await client.get("/api/v1/halls/demo/windows"))
    await ok(
        await client.post(
            "/api/v1/inspections",
            json={
                "window": windows[0]["id"],
                "staff": "w1",
                "visited_at": clock.now().isoformat(),
                "template": template["code"],
                "scores": scores,
                "notes": "脱岗",
            },
            headers=office,
        ),
        201,
    )
    # configuration and star ratings
    await ok(
        await client.put(
            "/api/v1/halls/demo/accountability-config",
            json={"rectification_days": 7, "reason": "县里新规"},
            headers=admin,
        )
    )
    # November is published once it and its appeal window are over; then corrected (更正).
    clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))
    await ok(
        await client.post(
            "/api/v1/halls/demo/ratings/publish", json={"period": "2026-11"}, headers=office
        ),
        200,
        201,
    )
    await ok(
        await client.post(
            "/api/v1/halls/demo/ratings/corrections",
            json={"period": "2026-11", "reason": "暗访记录录入有误，予以更正"},
            headers=office,
        ),
        201,
    )
    # queue odds and ends: pause/resume, transfer, return, cancel, no-show
    staff = await login(client, "w2")
    await ok(await client.post("/api/v1/windows/2/pause", headers=staff))
    await ok(await client.post("/api/v1/windows/2/resume", headers=staff))
    t = await issue(client, "hukou")
    await issue(client, "hukou")
    called = await ok(await client.post("/api/v1/windows/2/call-next", headers=staff))
    await ok(await client.post(f"/api/v1/tickets/{called['id']}/return", headers=staff))
    called = await ok(await client.post("/api/v1/windows/2/call-next", headers=staff))
    await ok(
        await client.post(
            f"/api/v1/tickets/{called['id']}/transfer", json={"service": "qiye"}, headers=staff
        )
    )
    called = await ok(await client.post("/api/v1/windows/2/call-next", headers=staff))
    await ok(await client.post(f"/api/v1/tickets/{called['id']}/no-show", headers=staff))
    assert t["number"].startswith("A")
