"""民主测评: the office fixes the year's panel, opens a quarter's round; every member rates every
department once on the six dimensions (a second ballot is 409), anonymously to the departments;
the office sees who voted, never what; closing ranks the departments (mean per dimension and
total), publishes the ranking and opens a rectification for the last place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select

from tests.support.client import login
from tests.support.settings import make_settings
from tests.support.supervisors import add_supervisor, supervisor
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock
from window_service.evaluation.models import EvaluationScore
from window_service.ledger import AuditRecord

HALL = "/api/v1/halls/demo/evaluation"
DIMS = ("lawful", "quality", "efficiency", "conduct", "command", "integrity")


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.core.db.dispose()


def ballot(codes: list[str], mark_of: dict[str, int], default: int = 80) -> dict[str, Any]:
    return {"marks": {c: dict.fromkeys(DIMS, mark_of.get(c, default)) for c in codes}}


async def test_a_full_round(hall: httpx.AsyncClient, db_url: str) -> None:
    app = hall.app  # type: ignore[attr-defined]
    office = await login(hall, "office")
    await add_supervisor(app, "jd-li")
    links = []
    for name, category in (("王乡长", "township"), ("赵代表", "deputy")):
        r = await hall.post(
            f"{HALL}/members",
            json={"year": 2026, "name": name, "category": category, "affiliation": "城关镇"},
            headers=office,
        )
        assert r.status_code == 201, r.text
        assert r.json()["ballot_url"].startswith("/ballot/")
        links.append("/api/v1" + r.json()["ballot_url"])
    r = await hall.post(
        f"{HALL}/members",
        json={"year": 2026, "name": "李监督", "category": "supervisor", "username": "jd-li"},
        headers=office,
    )
    assert r.status_code == 201 and r.json()["ballot_url"] is None, r.text
    again = await hall.post(
        f"{HALL}/members",
        json={"year": 2026, "name": "李监督", "category": "supervisor", "username": "jd-li"},
        headers=office,
    )
    assert again.status_code == 409
    listed = (await hall.get(f"{HALL}/members/2026", headers=office)).json()
    assert [m["category_label"] for m in listed] == ["乡镇领导", "人大代表", "监督员"]
    assert all(m["ballot_url"] is None for m in listed)  # the link is shown once

    # No round yet: the ballot says so.
    assert (await hall.get(links[0])).status_code == 404
    opened = await hall.post(f"{HALL}/rounds", json={"period": "2026-Q4"}, headers=office)
    assert opened.status_code == 201, opened.text
    rid = opened.json()["id"]
    dup = await hall.post(f"{HALL}/rounds", json={"period": "2026-Q4"}, headers=office)
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "round_exists"

    shown = (await hall.get(links[0])).json()
    codes = [d["code"] for d in shown["departments"]]
    assert len(codes) == 5 and shown["voted"] is False and set(shown["dimensions"]) == set(DIMS)
    best, worst = codes[0], codes[-1]

    # Incomplete or bad ballots are refused; nothing is recorded.
    partial = ballot(codes[:-1], {})
    r = await hall.post(links[0], json=partial)
    assert r.status_code == 422 and r.json()["error"]["code"] == "incomplete_ballot"
    bad = ballot(codes, {})
    bad["marks"][best]["lawful"] = 70
    assert (await hall.post(links[0], json=bad)).status_code == 422

    # Three ballots: best gets 100 everywhere, worst 40 from two and 60 from one.
    assert (
        await hall.post(links[0], json=ballot(codes, {best: 100, worst: 40}))
    ).status_code == 201
    assert (
        await hall.post(links[1], json=ballot(codes, {best: 100, worst: 40}))
    ).status_code == 201
    me = await login(hall, "jd-li", "Lantern-Otter-58")
    mine = await hall.get(f"{HALL}/ballot", headers=me)
    assert mine.status_code == 200 and mine.json()["voted"] is False
    r = await hall.post(f"{HALL}/ballot", json=ballot(codes, {best: 100, worst: 60}), headers=me)
    assert r.status_code == 201, r.text

    # Once per member per quarter, by link or by account.
    for url, headers in ((links[0], {}), (f"{HALL}/ballot", me)):
        r = await hall.post(url, json=ballot(codes, {}), headers=headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "already_voted", r.text
    assert (await hall.get(links[1])).json()["voted"] is True

    # The office sees who has voted, never what; heads and staff see nothing of the round.
    detail = (await hall.get(f"/api/v1/evaluation/rounds/{rid}", headers=office)).json()
    assert detail["voted"] == 3 and all(v["voted"] for v in detail["voters"])
    assert detail["ranking"] == [] and "marks" not in str(detail)
    for who in ("head", "w1"):
        r = await hall.get(f"/api/v1/evaluation/rounds/{rid}", headers=await login(hall, who))
        assert r.status_code == 403
    other = await supervisor(app, hall, "jd-wang")  # a supervisor not on the panel
    assert (
        await hall.post(f"{HALL}/ballot", json=ballot(codes, {}), headers=other)
    ).status_code == 403

    # Anonymity: a score row names no member, account or time; the vote's audit record names
    # who took part, not what they gave.
    async with app.state.core.db.read() as session:
        columns = await session.run_sync(
            lambda s: {c["name"] for c in inspect(s.connection()).get_columns("evaluation_score")}
        )
        assert columns == {"round_id", "ballot", "department_id", *DIMS}
        scores = list((await session.execute(select(EvaluationScore))).scalars())
        assert len(scores) == 3 * 5 and len({s.ballot for s in scores}) == 3
        votes = list(
            (
                await session.execute(
                    select(AuditRecord).where(AuditRecord.action == "evaluation.vote")  # type: ignore[arg-type]
                )
            ).scalars()
        )
        assert len(votes) == 3 and {v.actor for v in votes} >= {"user:jd-li"}
        assert all(not set(DIMS) & set(v.after or {}) for v in votes)
        assert all(s.ballot not in str(v.after) for v in votes for s in scores)

    # Closing ranks and publishes; the last place gets a rectification.
    closed = await hall.post(f"/api/v1/evaluation/rounds/{rid}/close", headers=office)
    assert closed.status_code == 200, closed.text
    ranking = closed.json()["ranking"]
    assert ranking[0]["department"] == best and ranking[0]["total"] == 100
    assert ranking[-1]["department"] == worst and ranking[-1]["rank"] == 5
    assert ranking[-1]["means"] == dict.fromkeys(DIMS, round((40 + 40 + 60) / 3, 2))
    assert [r["rank"] for r in ranking[1:4]] == [2, 2, 2]  # ties share a place
    assert (
        await hall.post(f"/api/v1/evaluation/rounds/{rid}/close", headers=office)
    ).status_code == 409
    public = (await hall.get(f"{HALL}/results")).json()
    assert public[0]["period"] == "2026-Q4" and public[0]["ranking"] == ranking
    assert public[0]["ballots"] == 3 and public[0]["members"] == 3
    rects = (
        await hall.get("/api/v1/rectifications?status=open", headers=await login(hall, "head"))
    ).json()
    assert [r["department"] for r in rects if r.get("kind") == "evaluation"] == [worst]
    # No voting on a closed round.
    assert (await hall.post(links[0], json=ballot(codes, {}))).status_code in (404, 409)

    # The place feeds the departments' stars once the office weighs it (default 0: unchanged).
    stars = "/api/v1/halls/demo/ratings?period=2026-Q4&subject=department"
    before = (await hall.get(stars, headers=office)).json()
    assert all("evaluation" not in r["components"] for r in before)
    changed = await hall.put(
        "/api/v1/halls/demo/accountability-config",
        json={
            "weights": {
                "satisfaction": 0,
                "inspection": 0,
                "time_limit": 0,
                "conduct": 0,
                "evaluation": 100,
            },
            "min_services": 0,
            "min_ratings": 0,
        },
        headers=office,
    )
    assert changed.status_code == 200, changed.text
    rows = {r["key"]: r for r in (await hall.get(stars, headers=office)).json()}
    assert rows[best]["raw"]["evaluation"] == 100 and rows[worst]["raw"]["evaluation"] == 0
    assert rows[best]["rank"] == 1 and rows[worst]["rank"] == 5
    assert rows[best]["stars"] > rows[worst]["stars"]
    assert await verify_command(db_url) == 0


async def test_a_round_needs_a_panel_and_a_quarter(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    r = await hall.post(f"{HALL}/rounds", json={"period": "2026-Q4"}, headers=office)
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_panel"
    r = await hall.post(f"{HALL}/rounds", json={"period": "2026-11"}, headers=office)
    assert r.status_code == 422
    r = await hall.post(
        f"{HALL}/members", json={"year": 2026, "name": "x", "category": "boss"}, headers=office
    )
    assert r.status_code == 422
    assert (await hall.get("/api/v1/ballot/" + "x" * 30)).status_code == 404


async def test_the_office_takes_a_member_off_the_panel_and_sends_a_new_link(
    hall: httpx.AsyncClient,
) -> None:
    """A member who leaves (or whose link went astray) is taken off the panel or given a new
    link; the old link stops working at once, and a member off the panel cannot vote."""
    app = hall.app  # type: ignore[attr-defined]
    office = await login(hall, "office")
    await add_supervisor(app, "jd-li")
    made = []
    for body in (
        {"year": 2026, "name": "王乡长", "category": "township"},
        {"year": 2026, "name": "钱老板", "category": "investor"},
        {"year": 2026, "name": "李监督", "category": "supervisor", "username": "jd-li"},
    ):
        r = await hall.post(f"{HALL}/members", json=body, headers=office)
        assert r.status_code == 201, r.text
        made.append(r.json())
    wang, qian, li = made
    assert (
        await hall.post(f"{HALL}/rounds", json={"period": "2026-Q4"}, headers=office)
    ).is_success
    old = "/api/v1" + wang["ballot_url"]
    assert (await hall.get(old)).status_code == 200

    # A new link: the old one is gone, the new one opens the same ballot.
    r = await hall.post(f"/api/v1/evaluation/members/{wang['id']}/ballot-link", headers=office)
    assert r.status_code == 200, r.text
    new = "/api/v1" + r.json()["ballot_url"]
    assert new != old and (await hall.get(old)).status_code == 404
    codes = [d["code"] for d in (await hall.get(new)).json()["departments"]]
    assert (await hall.post(new, json=ballot(codes, {}))).status_code == 201
    # A supervisor's account has no link to send.
    r = await hall.post(f"/api/v1/evaluation/members/{li['id']}/ballot-link", headers=office)
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_member"

    # Off the panel: the link stops working, the count drops, a second time is 409.
    off = await hall.post(f"/api/v1/evaluation/members/{qian['id']}/deactivate", headers=office)
    assert off.status_code == 200 and off.json()["active"] is False, off.text
    assert (await hall.get("/api/v1" + qian["ballot_url"])).status_code == 404
    again = await hall.post(f"/api/v1/evaluation/members/{qian['id']}/deactivate", headers=office)
    assert again.status_code == 409 and again.json()["error"]["code"] == "member_inactive"
    r = await hall.post(f"/api/v1/evaluation/members/{li['id']}/deactivate", headers=office)
    assert r.status_code == 200
    me = await login(hall, "jd-li", "Lantern-Otter-58")
    assert (await hall.get(f"{HALL}/ballot", headers=me)).status_code == 403
    rounds = (await hall.get(f"{HALL}/rounds", headers=office)).json()
    assert rounds[0]["members"] == 1 and rounds[0]["voted"] == 1
    listed = {
        m["name"]: m["active"]
        for m in (await hall.get(f"{HALL}/members/2026", headers=office)).json()
    }
    assert listed == {"王乡长": True, "钱老板": False, "李监督": False}

    # Only the office changes the panel; an unknown member is a 404.
    for who in ("admin", "head", "w1"):
        r = await hall.post(
            f"/api/v1/evaluation/members/{wang['id']}/deactivate", headers=await login(hall, who)
        )
        assert r.status_code == 403, who
    r = await hall.post("/api/v1/evaluation/members/999999/deactivate", headers=office)
    assert r.status_code == 404
