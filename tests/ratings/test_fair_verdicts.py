"""Fair verdicts (domain page): stars and a black-list place only with the subject's own evidence,
publication only after the period and its appeal window, corrections (更正) in public, and
suspicious ratings held out of every figure until the office reviews them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.client import login
from tests.support.ratings import (
    EVALUATOR_KEY,
    add_evaluator,
    bulk_ratings,
    rate,
    serve,
    window_ids,
)
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIER = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
#: November 2026 ends on Monday 30 Nov; its appeal window (5 working days) on Monday 7 Dec.
LAST_APPEAL_DAY = datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI)
AFTER_APPEALS = datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
PUBLISH = "/api/v1/halls/demo/ratings/publish"
CORRECT = "/api/v1/halls/demo/ratings/corrections"
#: A visit scoring 40 of 100: failed (below 80), with an inspection notice.
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
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def visit(hall: httpx.AsyncClient, window: int, staff: str, scores: dict[str, int]) -> None:
    ids = await window_ids(hall)
    recorded = await hall.post(
        "/api/v1/inspections",
        json={
            "window": ids[window],
            "staff": staff,
            "visited_at": "2026-11-20T10:00:00+08:00",
            "template": "standard",
            "scores": scores,
            "notes": "",
        },
        headers=await login(hall, "office"),
    )
    assert recorded.status_code == 201, recorded.text


async def rows_of(
    hall: httpx.AsyncClient, subject: str = "window", period: str = "2026-11", **params: Any
) -> dict[str, dict[str, Any]]:
    office = await login(hall, "office")
    query = "&".join(
        f"{k}={v}" for k, v in {"period": period, "subject": subject, **params}.items()
    )
    response = await hall.get(f"/api/v1/halls/demo/ratings?{query}", headers=office)
    assert response.status_code == 200, response.text
    return {r["key"]: r for r in response.json()}


async def test_no_star_without_minimum_evidence_and_nobody_named_without_evidence(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    """w1 served one ticket, unrated and unvisited; w2 failed a visit; w3's one rating is a 5."""
    await serve(hall, "hukou", 1)
    await visit(hall, 2, "w2", FAILED_VISIT)
    ticket = await serve(hall, "budongchan", 3)
    assert (await rate(hall, ticket["track_token"], 5)).status_code == 201

    windows = await rows_of(hall)
    w1 = windows["1"]
    assert w1["stars"] is None and w1["score"] is None and w1["reason"] == "样本不足"
    assert (w1["samples"]["services"], w1["samples"]["ratings"], w1["samples"]["inspections"]) == (
        1,
        0,
        0,
    )
    # Window 2's failed visit is not w1's: its inspection component is left out, not filled.
    assert w1["components"]["inspection"] is None and w1["raw"]["inspection"] is None
    assert windows["3"]["stars"] is None and windows["3"]["samples"]["ratings"] == 1
    # One inspection of its own is evidence enough.
    assert windows["2"]["stars"] == 1 and windows["2"]["evidence"]["failed_inspections"] == 1

    clock.set(AFTER_APPEALS)
    office = await login(hall, "office")
    assert (await hall.post(PUBLISH, json={"period": "2026-11"}, headers=office)).status_code == 201
    staff = await rows_of(hall, "staff")
    assert staff["w1"]["stars"] is None and staff["w1"]["reason"] == "样本不足"
    assert staff["w1"]["published"] is True
    board = (await hall.get("/api/v1/halls/demo/board")).json()
    people = {p["username"]: p for p in board["staff"]}
    assert people["w1"]["stars"] is None and people["w1"]["reason"] == "样本不足"
    assert board["red"] == []
    assert [p["username"] for p in board["black"]] == ["w2"]


async def test_components_without_own_data_are_left_out_and_weights_renormalised(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    await bulk_ratings(db_url, 1, [5] * 20 + [4] * 10, EARLIER)
    await visit(hall, 2, "w2", FAILED_VISIT)
    w1 = (await rows_of(hall))["1"]
    assert w1["samples"]["inspection"] == 0 and w1["components"]["inspection"] is None
    assert w1["components"]["time_limit"] is None
    sat, conduct = w1["components"]["satisfaction"], w1["components"]["conduct"]
    assert sat is not None and conduct is not None
    # Only its own components, with their weights (40 and 10) re-normalised.
    assert w1["score"] == pytest.approx((40 * sat + 10 * conduct) / 50, abs=0.01)
    assert w1["stars"] == 5


async def test_black_list_needs_a_substantiated_bad_rating_failed_visit_or_breach(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    # w4: thirty 基本满意 (no 差评): two stars, but nothing against it.
    await bulk_ratings(db_url, 4, [3] * 30, EARLIER)
    # w1: thirty ratings, a third of them 差评.
    await bulk_ratings(db_url, 1, [1] * 10 + [3] * 20, EARLIER)
    # w2: excellent.
    await bulk_ratings(db_url, 2, [5] * 40, EARLIER)
    staff = await rows_of(hall, "staff")
    assert staff["w4"]["stars"] is not None and staff["w4"]["stars"] <= 2
    assert staff["w4"]["evidence"] == {"bad_ratings": 0, "failed_inspections": 0, "breaches": 0}
    assert staff["w1"]["stars"] is not None and staff["w1"]["stars"] <= 2
    assert staff["w1"]["evidence"]["bad_ratings"] == 10
    clock.set(AFTER_APPEALS)
    office = await login(hall, "office")
    assert (await hall.post(PUBLISH, json={"period": "2026-11"}, headers=office)).status_code == 201
    board = (await hall.get("/api/v1/halls/demo/board")).json()
    assert [p["username"] for p in board["red"]] == ["w2"]
    assert [p["username"] for p in board["black"]] == ["w1"]


async def test_publication_only_after_the_period_and_its_appeal_window(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await serve(hall)
    assert (await rate(hall, ticket["track_token"], 4)).status_code == 201
    office = await login(hall, "office")

    async def publish(period: str) -> httpx.Response:
        return await hall.post(PUBLISH, json={"period": period}, headers=office)

    # The running month, and November during its appeal window: 409 period_not_over.
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    for period in ("2026-12", "2026-11", "2026-Q4"):
        refused = await publish(period)
        assert refused.status_code == 409, (period, refused.text)
        assert refused.json()["error"]["code"] == "period_not_over"
        assert "申诉期" in refused.json()["error"]["message"]
    clock.set(LAST_APPEAL_DAY)
    assert (await publish("2026-11")).json()["error"]["code"] == "period_not_over"
    # Before the hall existed: not a complete period, no period of this hall at all.
    before = await publish("2020-01")
    assert before.status_code == 422 and before.json()["error"]["code"] == "invalid_period"
    assert (await hall.get("/api/v1/halls/demo/ratings/publications")).json() == []

    clock.set(AFTER_APPEALS)
    published = await publish("2026-11")
    assert published.status_code == 201, published.text
    assert published.json()["complete"] is True and published.json()["version"] == 1
    # A period of the hall's life without any record: nothing to publish.
    clock.set(datetime(2027, 1, 15, 10, 0, tzinfo=SHANGHAI))
    empty = await publish("2026-12")
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "no_records"
    # The appeal window is a setting of the office.
    assert (
        await hall.put(
            "/api/v1/halls/demo/accountability-config",
            json={"appeal_window_days": 15},
            headers=office,
        )
    ).status_code == 200
    assert (await publish("2026-12")).json()["error"]["code"] == "period_not_over"


async def test_a_published_period_is_corrected_only_in_public_with_its_reason(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    await bulk_ratings(db_url, 1, [2] * 20 + [3] * 30, EARLIER)
    await bulk_ratings(db_url, 2, [5] * 30, EARLIER)
    office = await login(hall, "office")
    w1 = await login(hall, "w1")
    clock.set(AFTER_APPEALS)
    # Nothing to correct before publication.
    unpublished = await hall.post(
        CORRECT, json={"period": "2026-11", "reason": "数据有误"}, headers=office
    )
    assert unpublished.status_code == 409 and unpublished.json()["error"]["code"] == "not_published"
    assert (await hall.post(PUBLISH, json={"period": "2026-11"}, headers=office)).status_code == 201
    first = await rows_of(hall)
    # A proven error: window 1's ratings of 10 Nov belonged to window 2 (entered by hand here).
    await bulk_ratings(db_url, 1, [5] * 30, EARLIER)
    assert await rows_of(hall) == first  # frozen: no silent recompute
    assert (await hall.post(PUBLISH, json={"period": "2026-11"}, headers=office)).status_code == 409
    # Staff cannot correct; a correction needs its reason.
    assert (
        await hall.post(CORRECT, json={"period": "2026-11", "reason": "我觉得不对"}, headers=w1)
    ).status_code == 403
    assert (await hall.post(CORRECT, json={"period": "2026-11"}, headers=office)).status_code == 422
    reason = "1号窗口11月10日30条评价漏计，经核实予以更正"
    corrected = await hall.post(
        CORRECT, json={"period": "2026-11", "reason": reason}, headers=office
    )
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["version"] == 2 and corrected.json()["correction_reason"] == reason

    # Public: the version in force, the superseded one still readable, both listed.
    now_in_force = {
        r["key"]: r for r in (await hall.get("/api/v1/halls/demo/ratings?period=2026-11")).json()
    }
    assert now_in_force["1"]["version"] == 2 and now_in_force["1"]["superseded"] is False
    assert now_in_force["1"]["samples"]["ratings"] == 80
    old = (await hall.get("/api/v1/halls/demo/ratings?period=2026-11&version=1")).json()
    assert {r["key"]: r["score"] for r in old} == {k: r["score"] for k, r in first.items()}
    assert all(r["superseded"] is True and r["version"] == 1 for r in old)
    missing = await hall.get("/api/v1/halls/demo/ratings?period=2026-11&version=3")
    assert missing.status_code == 404
    pubs = (await hall.get("/api/v1/halls/demo/ratings/publications")).json()
    assert [(p["version"], p["superseded"]) for p in pubs] == [(2, False), (1, True)]
    assert pubs[0]["correction_reason"] == reason and pubs[1]["superseded_at"]
    board = (await hall.get("/api/v1/halls/demo/board")).json()
    assert board["version"] == 2 and board["correction_reason"] == reason
    page = await hall.get("/board/demo")
    assert "更正" in page.text and reason in page.text
    assert await verify_command(db_url) == 0


async def test_flagged_ratings_are_held_out_until_the_office_reviews_them(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    await add_evaluator(db_url, 1)
    pad = {"X-Device-Key": EVALUATOR_KEY}
    tickets = [await serve(hall) for _ in range(5)]
    for ticket in tickets:
        assert (await rate(hall, ticket["track_token"], 5, headers=pad)).status_code == 201
        clock.advance(minutes=1)
    office, admin, head, w1 = [await login(hall, u) for u in ("office", "admin", "head", "w1")]
    flagged = await hall.get("/api/v1/halls/demo/feedback/flagged", headers=office)
    assert flagged.status_code == 200
    held = flagged.json()
    assert len(held) == 5 and all(f["review"] == "pending" for f in held)
    assert all("同一评价器" in f["flag_reason"] for f in held)

    # Held out of every figure: stars, the feedback figures.
    assert (await rows_of(hall))["1"]["samples"]["ratings"] == 0
    figures = (await hall.get("/api/v1/halls/demo/feedback/figures?period=2026-11")).json()
    assert figures["ratings"] == 0 and figures["average"] is None

    # Heads and staff do not review; a reason is needed.
    first, second = held[0]["id"], held[1]["id"]
    for who in (head, w1):
        assert (
            await hall.post(
                f"/api/v1/feedback/{first}/review",
                json={"decision": "confirm", "reason": "核实为真实评价"},
                headers=who,
            )
        ).status_code == 403
    assert (
        await hall.post(
            f"/api/v1/feedback/{first}/review", json={"decision": "confirm"}, headers=office
        )
    ).status_code == 422
    confirmed = await hall.post(
        f"/api/v1/feedback/{first}/review",
        json={"decision": "confirm", "reason": "调取监控，系群众本人评价"},
        headers=office,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["review"] == "confirmed" and confirmed.json()["voided"] is False
    voided = await hall.post(
        f"/api/v1/feedback/{second}/review",
        json={"decision": "void", "reason": "窗口人员代评，已约谈"},
        headers=admin,
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["voided"] is True and "窗口人员代评" in voided.json()["void_reason"]
    again = await hall.post(
        f"/api/v1/feedback/{second}/review",
        json={"decision": "confirm", "reason": "改判"},
        headers=office,
    )
    assert again.status_code == 409

    # Only the confirmed one counts; three are still held.
    assert (await rows_of(hall))["1"]["samples"]["ratings"] == 1
    figures = (await hall.get("/api/v1/halls/demo/feedback/figures?period=2026-11")).json()
    assert figures["ratings"] == 1
    pending = (await hall.get("/api/v1/halls/demo/feedback/flagged", headers=office)).json()
    assert len(pending) == 3
    reviewed = (
        await hall.get("/api/v1/halls/demo/feedback/flagged?status=reviewed", headers=office)
    ).json()
    assert {(f["id"], f["review"], f["review_reason"]) for f in reviewed} == {
        (first, "confirmed", "调取监控，系群众本人评价"),
        (second, "voided", "窗口人员代评，已约谈"),
    }
    # A rating nobody flagged needs no review.
    plain = await serve(hall)
    fb = (await rate(hall, plain["track_token"], 4)).json()
    not_flagged = await hall.post(
        f"/api/v1/feedback/{fb['id']}/review",
        json={"decision": "void", "reason": "随便作废"},
        headers=office,
    )
    assert not_flagged.status_code == 409 and not_flagged.json()["error"]["code"] == "not_flagged"
    assert await audit_actions(db_url, "feedback.review") == 2


async def audit_actions(db_url: str, action: str) -> int:
    from sqlalchemy import func, select

    from window_service.db import create_database
    from window_service.ledger import AuditRecord

    db = create_database(db_url)
    try:
        async with db.read() as session:
            return int(
                (
                    await session.execute(
                        select(func.count()).where(AuditRecord.action == action)  # type: ignore[arg-type]
                    )
                ).scalar_one()
            )
    finally:
        await db.dispose()


async def test_bursts_are_judged_per_device_and_channel_not_network_address(
    hall: httpx.AsyncClient, db_url: str, clock: FixedClock
) -> None:
    """Six citizens on the hall's Wi-Fi (one address) each rate from their own phone."""
    office = await login(hall, "office")
    for n in range(6):
        ticket = await serve(hall)
        response = await rate(hall, ticket["track_token"], 5, device=f"citizen-phone-{n}")
        assert response.status_code == 201 and response.json()["flagged"] is False
        clock.advance(minutes=1)
    assert (await hall.get("/api/v1/halls/demo/feedback/flagged", headers=office)).json() == []
    # The evaluator pad is another channel: its ratings do not add up with the phones'.
    await add_evaluator(db_url, 1)
    for _ in range(4):
        ticket = await serve(hall)
        pad = {"X-Device-Key": EVALUATOR_KEY}
        response = await rate(hall, ticket["track_token"], 5, headers=pad, device="citizen-phone-0")
        assert response.status_code == 201 and response.json()["flagged"] is False
    # One phone rating five services within ten minutes is a burst.
    for _ in range(5):
        ticket = await serve(hall)
        response = await rate(hall, ticket["track_token"], 5, device="one-phone")
    assert response.json()["flagged"] is True
    held = (await hall.get("/api/v1/halls/demo/feedback/flagged", headers=office)).json()
    assert len(held) == 5 and all("同一手机" in f["flag_reason"] for f in held)
    assert (await rate(hall, "x" * 24, 5, device="bad device id!")).status_code == 422
