"""好差评: one rating per finished service, from the citizen only, with refusals in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import KIOSK, issue, login
from tests.support.ratings import EVALUATOR_KEY, add_evaluator, rate, serve
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app whose hall clock stands still (Thursday 26 Nov 2026, 10:00)."""
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def test_rate_once_after_the_service(hall: httpx.AsyncClient) -> None:
    ticket = await serve(hall)
    token = ticket["track_token"]
    tracked = (await hall.get(f"/api/v1/track/{token}")).json()
    assert tracked["can_rate"] is True
    state = (await hall.get(f"/api/v1/track/{token}/feedback")).json()
    assert [lv["label"] for lv in state["levels"]] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert [lv["points"] for lv in state["levels"]] == [10, 8, 6, 3, 0]
    assert state["deadline"] == "2026-12-03"  # 5 working days after Thursday 26 Nov

    response = await rate(hall, token, 4, tags=["态度", "效率"], comment="办事很快")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["label"] == "满意" and body["points"] == 8
    assert body["window"] == 1 and body["staff"] == "w1"
    assert body["service"] == "hukou" and body["department"] == "gongan"

    again = await rate(hall, token, 5)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_rated"
    assert "只能评价一次" in again.json()["error"]["message"]
    assert (await hall.get(f"/api/v1/track/{token}")).json()["can_rate"] is False
    assert (await hall.get(f"/api/v1/track/{token}/feedback")).json()["feedback"]["rating"] == 4


async def test_not_before_the_service_is_finished(hall: httpx.AsyncClient) -> None:
    ticket = await issue(hall)
    response = await rate(hall, ticket["track_token"], 5)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_finished"
    assert "办结后才能评价" in response.json()["error"]["message"]
    # Called and being served: still not finished.
    headers = await login(hall, "w1")
    await hall.post("/api/v1/windows/1/call-next", headers=headers)
    await hall.post(f"/api/v1/tickets/{ticket['id']}/start", headers=headers)
    assert (await rate(hall, ticket["track_token"], 5)).status_code == 409
    assert (await hall.get(f"/api/v1/track/{ticket['track_token']}")).json()["can_rate"] is False


INVALID = [
    {"rating": 0},
    {"rating": 6},
    {"rating": "five"},
    {"rating": 5, "tags": ["送礼"]},
    {"rating": 5, "comment": "长" * 501},
    {"rating": 5, "contact": "not a phone"},
    {"rating": 5, "extra": 1},
    {},
]


async def test_invalid_ratings_are_422(hall: httpx.AsyncClient) -> None:
    ticket = await serve(hall)
    for body in INVALID:
        response = await hall.post(f"/api/v1/track/{ticket['track_token']}/feedback", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"]
    unknown_tag = await rate(hall, ticket["track_token"], 5, tags=["送礼"])
    assert "未知的评价标签" in unknown_tag.json()["error"]["message"]
    # Nothing half-stored: the ticket can still be rated.
    assert (await rate(hall, ticket["track_token"], 5)).status_code == 201


async def test_unknown_token_is_404(hall: httpx.AsyncClient) -> None:
    response = await rate(hall, "no-such-token-0000000000", 5)
    assert response.status_code == 404
    assert (await rate(hall, "../../etc", 5)).status_code == 404


async def test_staff_and_staff_devices_cannot_rate(hall: httpx.AsyncClient, db_url: str) -> None:
    ticket = await serve(hall)
    token = ticket["track_token"]
    for who in ("w1", "office", "head", "admin"):
        refused = await rate(hall, token, 5, headers=await login(hall, who))
        assert refused.status_code == 403, who
        assert refused.json()["error"]["code"] == "staff_cannot_rate"
        assert "工作人员不得代替群众评价" in refused.json()["error"]["message"]
    kiosk = await rate(hall, token, 5, headers=KIOSK)
    assert kiosk.status_code == 403
    # The evaluator pad of another window may not rate this window's service.
    await add_evaluator(db_url, 2, key="evaluator-of-window-2-key")
    other = await rate(hall, token, 5, headers={"X-Device-Key": "evaluator-of-window-2-key"})
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "other_window"
    # The window's own pad is the citizen's rating device.
    await add_evaluator(db_url, 1)
    ok = await rate(hall, token, 5, headers={"X-Device-Key": EVALUATOR_KEY})
    assert ok.status_code == 201, ok.text
    assert ok.json()["channel"] == "pad"


async def test_staff_page_session_cannot_rate(hall: httpx.AsyncClient) -> None:
    from tests.support.client import csrf_from, page_login

    ticket = await serve(hall)
    assert (await page_login(hall, "w1")).status_code == 303
    token = csrf_from((await hall.get("/terminal")).text)
    refused = await hall.post(
        f"/api/v1/track/{ticket['track_token']}/feedback",
        json={"rating": 5},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "staff_cannot_rate"


async def test_rating_period_is_five_working_days(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    late = await serve(hall)
    in_time = await serve(hall)
    # Thursday 3 Dec is the fifth working day after Thursday 26 Nov: still allowed.
    clock.advance(days=7)
    assert (await rate(hall, in_time["track_token"], 3)).status_code == 201
    clock.advance(days=1)  # Friday 4 Dec
    refused = await rate(hall, late["track_token"], 3)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "rating_period_over"
    assert "已超过评价期限" in refused.json()["error"]["message"]


async def test_bursts_of_top_ratings_are_flagged_not_dropped(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    """Five top ratings from one citizen's browser (the rating page's device id) in 10 min."""
    office = await login(hall, "office")
    tickets = [await serve(hall) for _ in range(6)]
    for ticket in tickets[:4]:
        assert (await rate(hall, ticket["track_token"], 5, device="phone-1")).status_code == 201
        clock.advance(minutes=1)
    flagged = await hall.get("/api/v1/halls/demo/feedback?flagged=true", headers=office)
    assert flagged.status_code == 200
    assert flagged.json() == []
    assert (await rate(hall, tickets[4]["track_token"], 5, device="phone-1")).status_code == 201
    flagged = (await hall.get("/api/v1/halls/demo/feedback?flagged=true", headers=office)).json()
    assert len(flagged) == 5
    assert all("疑似刷好评" in f["flag_reason"] for f in flagged)
    # Kept (held for the office's review, not voided): all five are in the full list.
    everything = (await hall.get("/api/v1/halls/demo/feedback", headers=office)).json()
    assert len(everything) == 5 and not any(f["voided"] for f in everything)
    # Much later, a single top rating from the same browser is not a burst.
    clock.advance(minutes=30)
    response = await rate(hall, tickets[5]["track_token"], 5, device="phone-1")
    assert response.json()["flagged"] is False
    # Window staff cannot see the list.
    assert (
        await hall.get("/api/v1/halls/demo/feedback", headers=await login(hall, "w1"))
    ).status_code == 403
    assert (await hall.get("/api/v1/halls/demo/feedback")).status_code == 401


async def test_appeal_voids_a_malicious_rating_without_deleting_it(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    ticket = await serve(hall)
    fb = (await rate(hall, ticket["track_token"], 1, comment="故意差评")).json()
    head, office, w1 = [await login(hall, u) for u in ("head", "office", "w1")]
    assert (
        await hall.post(
            f"/api/v1/feedback/{fb['id']}/appeals", json={"reason": "恶意差评"}, headers=w1
        )
    ).status_code == 403
    appeal = await hall.post(
        f"/api/v1/feedback/{fb['id']}/appeals",
        json={"reason": "群众当场表示满意，系误操作后恶意差评，有监控为证"},
        headers=head,
    )
    assert appeal.status_code == 201, appeal.text
    again = await hall.post(
        f"/api/v1/feedback/{fb['id']}/appeals", json={"reason": "再次申诉"}, headers=head
    )
    assert again.status_code == 409
    appeal_id = appeal.json()["id"]
    # Only the office decides.
    assert (
        await hall.post(
            f"/api/v1/appeals/{appeal_id}/decision",
            json={"accept": True, "reason": "同意"},
            headers=head,
        )
    ).status_code == 403
    decided = await hall.post(
        f"/api/v1/appeals/{appeal_id}/decision",
        json={"accept": True, "reason": "经调阅监控，申诉成立"},
        headers=office,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "accepted"
    rows = (await hall.get("/api/v1/halls/demo/feedback?voided=true", headers=office)).json()
    assert [r["id"] for r in rows] == [fb["id"]]
    assert "申诉成立" in rows[0]["void_reason"] and "监控" in rows[0]["void_reason"]
    # Its rectification is voided too, and the audit chain kept every step.
    rect = (await hall.get("/api/v1/rectifications?status=voided", headers=office)).json()
    assert [r["ticket"] for r in rect] == [ticket["number"]]
    assert (
        await hall.post(
            f"/api/v1/appeals/{appeal_id}/decision",
            json={"accept": False, "reason": "重复"},
            headers=office,
        )
    ).status_code == 409
    assert await verify_command(db_url) == 0


async def test_feedback_figures_are_public(hall: httpx.AsyncClient) -> None:
    for rating in (5, 4, 1):
        ticket = await serve(hall)
        assert (await rate(hall, ticket["track_token"], rating)).status_code == 201
    figures = (await hall.get("/api/v1/halls/demo/feedback/figures?period=2026-11")).json()
    assert figures["ratings"] == 3
    assert figures["bad_ratings"] == 1 and figures["callback_rate"] == 0
    assert figures["satisfaction_rate"] == pytest.approx(66.7)
    assert (await hall.get("/api/v1/halls/demo/feedback/figures?period=2026-13")).status_code == 422


async def test_rating_period_points_and_deadlines_are_configurable(
    hall: httpx.AsyncClient, clock: FixedClock
) -> None:
    office = await login(hall, "office")
    changed = await hall.put(
        "/api/v1/halls/demo/accountability-config",
        json={
            "rate_within_days": 1,
            "rectification_days": 10,
            "points": {"5": 10, "4": 9, "3": 7, "2": 4, "1": 0},
        },
        headers=office,
    )
    assert changed.status_code == 200, changed.text
    first, second = await serve(hall), await serve(hall)
    assert (await rate(hall, first["track_token"], 4)).json()["points"] == 9
    clock.advance(days=1)  # Friday 27 Nov: the one working day after Thursday, still allowed
    bad = await rate(hall, second["track_token"], 2)
    assert bad.status_code == 201
    rects = (await hall.get("/api/v1/rectifications", headers=office)).json()
    assert rects[0]["due"] == "2026-12-11"  # 10 working days after Friday 27 Nov
    late = await serve(hall)
    clock.advance(days=3)  # Monday 30 Nov: the service finished Friday, one working day ago
    assert (await rate(hall, late["track_token"], 5)).status_code == 201
    later = await serve(hall)
    clock.advance(days=2)  # Wednesday 2 Dec: two working days after Monday
    refused = await rate(hall, later["track_token"], 5)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "rating_period_over"
    # Window staff cannot change the settings; the change history is versioned.
    w1 = await login(hall, "w1")
    assert (
        await hall.put(
            "/api/v1/halls/demo/accountability-config", json={"rate_within_days": 30}, headers=w1
        )
    ).status_code == 403
    assert (await hall.get("/api/v1/halls/demo/accountability-config", headers=office)).json()[
        "version"
    ] == 1
