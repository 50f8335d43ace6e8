"""差评 handled as GB/T 39734-2020 §9 sets out: the head classes each at 核实 (立行立改, 限期整改,
解释说明, 误评/恶意), a 误评/恶意 is voided only by the office, the result is told to the citizen at
the callback, and the closed work orders are published on the notice board, no citizen named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import login
from tests.support.ratings import rate, serve
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def complaint(hall: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    ticket = await serve(hall)
    assert (await rate(hall, ticket["track_token"], 1, **body)).status_code == 201
    head = await login(hall, "head")
    rects = (await hall.get("/api/v1/rectifications?status=open", headers=head)).json()
    return next(r for r in rects if r["ticket"] == ticket["number"])


async def step(hall: httpx.AsyncClient, rect: dict[str, Any], name: str, **body: Any) -> Any:
    head = await login(hall, "head")
    return await hall.post(f"/api/v1/rectifications/{rect['id']}/{name}", json=body, headers=head)


async def test_fix_at_once_is_due_the_next_working_day(hall: httpx.AsyncClient) -> None:
    rect = await complaint(hall)
    assert rect["due"] == "2026-12-03"  # five working days from Thursday 26 Nov
    r = await step(hall, rect, "verify", finding="属实，当场纠正", category="immediate")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["category"], body["category_label"], body["substantiated"]) == (
        "immediate",
        "立行立改",
        True,
    )
    assert body["due"] == "2026-11-27" and body["stage"] == "fix"


async def test_an_explanation_is_told_and_published_without_the_citizen(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    rect = await complaint(hall, contact="13800000000")
    verified = await step(hall, rect, "verify", finding="材料要求系法规规定", category="explain")
    assert verified.json()["substantiated"] is False
    assert (
        await step(hall, rect, "fix", measures="向群众解释依据，电话 13912345678 回复")
    ).status_code == 200
    called = await step(hall, rect, "callback", reached=True, citizen_view="basically_satisfied")
    assert called.status_code == 200 and called.json()["status"] == "closed", called.text
    board = await hall.get("/board/demo")
    assert board.status_code == 200
    assert (
        "差评整改情况公开" in board.text and "解释说明" in board.text and "基本满意" in board.text
    )
    assert "向群众解释依据" in board.text
    assert "13912345678" not in board.text and "13800000000" not in board.text
    assert await verify_command(db_url) == 0


async def test_a_mistaken_rating_is_the_offices_to_void(hall: httpx.AsyncClient) -> None:
    rect = await complaint(hall)
    office = await login(hall, "office")
    r = await step(hall, rect, "verify", finding="监控显示群众未到窗口", category="mistaken")
    assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["stage_label"]) == ("appeal", "待效能办认定")
    # The head cannot go on with it: the office decides on the appeal it filed.
    assert (await step(hall, rect, "fix", measures="无需整改")).status_code == 409
    appeals = (await hall.get("/api/v1/halls/demo/appeals", headers=office)).json()
    [appeal] = [a for a in appeals if a["status"] == "pending"]
    assert appeal["reason"] == "监控显示群众未到窗口"
    refused = await hall.post(
        f"/api/v1/appeals/{appeal['id']}/decision",
        json={"accept": False, "reason": "监控不能证明"},
        headers=office,
    )
    assert refused.status_code == 200, refused.text
    back = (await hall.get(f"/api/v1/rectifications/{rect['id']}", headers=office)).json()
    assert (back["stage"], back["category"]) == ("verify", "")
    again = await step(hall, rect, "verify", finding="另有证人证言", category="mistaken")
    assert again.status_code == 200
    appeals = (await hall.get("/api/v1/halls/demo/appeals", headers=office)).json()
    [pending] = [a for a in appeals if a["status"] == "pending"]
    accepted = await hall.post(
        f"/api/v1/appeals/{pending['id']}/decision",
        json={"accept": True, "reason": "证人证言与监控一致，申诉成立"},
        headers=office,
    )
    assert accepted.status_code == 200
    done = (await hall.get(f"/api/v1/rectifications/{rect['id']}", headers=office)).json()
    assert done["status"] == "voided"


async def test_a_class_is_needed_and_must_be_one_of_four(hall: httpx.AsyncClient) -> None:
    rect = await complaint(hall)
    none = await step(hall, rect, "verify", finding="已核实")
    assert none.status_code == 422 and none.json()["error"]["code"] == "category_required"
    wrong = await step(hall, rect, "verify", finding="已核实", category="ignore")
    assert wrong.status_code == 422
