"""Every channel of 好差评 (GB/T 39734-2020): the office enters 12345 hotline complaints,
suggestion-box slips, invited supervisors' observations and on-site reviews against a ticket,
case, window, staff member or department; they count like any rating, a 差评 opens a
rectification, and they go to the province's platform with their channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.cases import accept
from tests.support.client import login
from tests.support.ratings import serve
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock
from window_service.outbox.models import PlatformDelivery

ENTRIES = "/api/v1/halls/demo/feedback/entries"


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.core.db.dispose()


async def enter(hall: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await hall.post(ENTRIES, json=body, headers=await login(hall, "office"))


async def test_a_hotline_complaint_about_a_ticket_opens_a_rectification_and_counts(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    ticket = await serve(hall, "hukou", 1)
    r = await enter(
        hall,
        channel="hotline_12345",
        rating=1,
        comment="窗口人员态度生硬",
        reference="12345-20261126-0088",
        ticket=ticket["number"],
        day="2026-11-26",
    )
    assert r.status_code == 201, r.text
    fb = r.json()
    assert (fb["channel"], fb["channel_label"], fb["reference"]) == (
        "hotline_12345",
        "12345热线",
        "12345-20261126-0088",
    )
    assert (fb["ticket"], fb["window"], fb["staff"], fb["service"], fb["department"]) == (
        ticket["number"],
        1,
        "w1",
        "hukou",
        "gongan",
    )
    assert fb["rectification"] is not None
    office = await login(hall, "office")
    rects = (await hall.get("/api/v1/rectifications?status=open", headers=office)).json()
    assert [(x["ticket"], x["window"], x["rating"]) for x in rects] == [(ticket["number"], 1, 1)]
    listed = (await hall.get("/api/v1/halls/demo/feedback", headers=office)).json()
    assert [(x["channel"], x["ticket"]) for x in listed] == [("hotline_12345", ticket["number"])]
    stars = (
        await hall.get("/api/v1/halls/demo/ratings?period=2026-11&subject=window", headers=office)
    ).json()
    assert next(row for row in stars if row["key"] == "1")["evidence"]["bad_ratings"] == 1
    # The citizen can still rate that ticket themselves: one rating per ticket is theirs.
    state = await hall.get(f"/api/v1/track/{ticket['track_token']}")
    assert state.json()["can_rate"] is True
    async with hall.app.state.core.db.read() as session:  # type: ignore[attr-defined]
        bodies = [d.body for d in (await session.execute(select(PlatformDelivery))).scalars()]
    sent = [b for b in bodies if b.get("channel") == "hotline_12345"]
    assert sent and sent[0]["ticket"] == ticket["number"] and "contact" not in sent[0]
    assert await verify_command(db_url) == 0


async def test_entries_against_a_case_a_window_a_staff_member_and_a_department(
    hall: httpx.AsyncClient,
) -> None:
    case, _ = await accept(hall, service="budongchan", window=3)
    by_case = await enter(
        hall,
        channel="suggestion_box",
        rating=5,
        comment="材料一次讲清",
        receipt_no=case["receipt_no"],
    )
    assert by_case.status_code == 201, by_case.text
    assert (by_case.json()["window"], by_case.json()["department"]) == (3, "ziranziyuan")
    assert by_case.json()["rectification"] is None  # praise opens nothing
    by_window = await enter(hall, channel="supervisor", rating=2, comment="窗口无人", window=5)
    assert by_window.status_code == 201, by_window.text
    assert (by_window.json()["window"], by_window.json()["department"]) == (5, "shichang")
    assert by_window.json()["rectification"] is not None
    by_staff = await enter(hall, channel="onsite_review", rating=4, comment="规范", staff="w6")
    assert (by_staff.json()["staff"], by_staff.json()["window"]) == ("w6", 6)
    by_dept = await enter(
        hall, channel="hotline_12345", rating=1, comment="推诿", department="shuiwu"
    )
    assert by_dept.status_code == 201, by_dept.text
    body = by_dept.json()
    assert (body["window"], body["staff"], body["service"], body["department"]) == (
        None,
        None,
        "",
        "shuiwu",
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "phone", "rating": 1, "comment": "x", "window": 1}, 422, None),
        ({"channel": "supervisor", "rating": 6, "comment": "x", "window": 1}, 422, None),
        ({"channel": "supervisor", "rating": 1, "comment": "x"}, 422, "invalid_subject"),
        (
            {"channel": "supervisor", "rating": 1, "comment": "x", "window": 1, "staff": "w1"},
            422,
            "invalid_subject",
        ),
        (
            {"channel": "supervisor", "rating": 1, "comment": "x", "ticket": "A001"},
            422,
            "invalid_subject",
        ),
        ({"channel": "supervisor", "rating": 1, "comment": "x", "window": 99}, 404, None),
        ({"channel": "supervisor", "rating": 1, "comment": "x", "staff": "nobody"}, 404, None),
        ({"channel": "supervisor", "rating": 1, "comment": "x", "department": "nope"}, 404, None),
        ({"channel": "supervisor", "rating": 1, "comment": "x", "receipt_no": "DEMO-1"}, 404, None),
        (
            {
                "channel": "supervisor",
                "rating": 1,
                "comment": "x",
                "ticket": "Z999",
                "day": "2026-11-26",
            },
            404,
            None,
        ),
        ({"channel": "supervisor", "rating": 1, "comment": "", "window": 1}, 422, None),
    ],
)
async def test_bad_entries_are_refused_and_nothing_is_stored(
    hall: httpx.AsyncClient, body: dict[str, Any], status: int, code: str | None
) -> None:
    r = await enter(hall, **body)
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"]["code"] == code
    office = await login(hall, "office")
    assert (await hall.get("/api/v1/halls/demo/feedback", headers=office)).json() == []


async def test_only_the_office_enters(hall: httpx.AsyncClient) -> None:
    body = {"channel": "supervisor", "rating": 1, "comment": "x", "window": 1}
    for who in ("head", "w1", "admin"):
        r = await hall.post(ENTRIES, json=body, headers=await login(hall, who))
        assert r.status_code == 403, (who, r.text)
