"""特邀廉政监督员: an invited supervisor's account submits observations that enter the channel
``supervisor`` like the office's entry (a 差评 opens a rectification for the head), sees their
progress and the public figures, nothing of the office's, and everything they do is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import login
from tests.support.settings import make_settings
from tests.support.supervisors import supervisor
from window_service.app import create_app
from window_service.auth.models import User
from window_service.clock import FixedClock
from window_service.ledger import AuditRecord

OBSERVATIONS = "/api/v1/halls/demo/supervision/observations"


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, tmp_path), clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.core.db.dispose()


async def test_an_observation_becomes_a_rectification_and_is_audited(
    hall: httpx.AsyncClient,
) -> None:
    app = hall.app  # type: ignore[attr-defined]
    me = await supervisor(app, hall)
    r = await hall.post(
        OBSERVATIONS,
        json={
            "window": 3,
            "rating": 1,
            "comment": "工作时间玩手机，群众等候无人理",
            "tags": ["态度"],
        },
        headers=me,
    )
    assert r.status_code == 201, r.text
    seen = r.json()
    assert seen["department_name"] == "县自然资源局"
    assert seen["stage"] == "verify" and seen["rectification"] is not None

    # The head gets the work order of the channel "supervisor", like the office's entry.
    head = await login(hall, "head")
    rect = (await hall.get(f"/api/v1/rectifications/{seen['rectification']}", headers=head)).json()
    assert rect["window"] == 3 and rect["rating"] == 1 and rect["status"] == "open"
    listed = (await hall.get("/api/v1/halls/demo/feedback", headers=head)).json()
    mine = [f for f in listed if f["id"] == seen["id"]]
    assert mine and mine[0]["channel"] == "supervisor"
    # The department never learns which supervisor rated it: not in the list, not in the order.
    assert "jd-li" not in str(listed) and "李监督" not in str(listed)
    assert "jd-li" not in str(rect) and "李监督" not in str(rect)

    # The head verifies and fixes; the supervisor sees how far it went, and only their own.
    v = await hall.post(
        f"/api/v1/rectifications/{rect['id']}/verify",
        json={"finding": "属实", "substantiated": True, "category": "deadline"},
        headers=head,
    )
    assert v.status_code == 200, v.text
    f = await hall.post(
        f"/api/v1/rectifications/{rect['id']}/fix", json={"measures": "批评教育"}, headers=head
    )
    assert f.status_code == 200, f.text
    other = await supervisor(app, hall, "jd-wang")
    assert (await hall.get(OBSERVATIONS, headers=other)).json() == []
    [progress] = (await hall.get(OBSERVATIONS, headers=me)).json()
    assert progress["stage"] == "callback" and progress["measures"] == "批评教育"

    # Public figures yes; the office's lists and entries no.
    assert (await hall.get("/api/v1/halls/demo/board", headers=me)).status_code == 200
    assert (await hall.get("/api/v1/halls/demo/results", headers=me)).status_code == 200
    for method, path in (
        ("GET", "/api/v1/halls/demo/feedback"),
        ("GET", "/api/v1/rectifications?status=open"),
        ("POST", "/api/v1/halls/demo/feedback/entries"),
    ):
        assert (await hall.request(method, path, headers=me, json={})).status_code == 403, path

    async with app.state.core.db.read() as session:
        actions = (
            await session.execute(
                select(AuditRecord.action).where(AuditRecord.actor == "user:jd-li")  # type: ignore[arg-type]
            )
        ).scalars()
        assert {"feedback.entered", "rectification.open"} <= set(actions)


async def test_bad_observations_are_refused_with_the_contract_shape(
    hall: httpx.AsyncClient,
) -> None:
    me = await supervisor(hall.app, hall)  # type: ignore[attr-defined]
    for body, status in (
        ({"rating": 1, "comment": "x"}, 422),  # no subject
        ({"rating": 9, "comment": "x", "window": 1}, 422),
        ({"rating": 2, "comment": "x", "window": 99}, 404),
        ({"rating": 2, "comment": "x", "window": 1, "department": "gaj"}, 422),
    ):
        r = await hall.post(OBSERVATIONS, json=body, headers=me)
        assert r.status_code == status, (body, r.text)
        assert {"code", "message"} <= set(r.json()["error"])


async def test_a_supervisor_names_a_staff_member_by_the_staff_number_they_wear(
    hall: httpx.AsyncClient,
) -> None:
    """An outsider knows a person by the 工号 on their badge and the window display, not by an
    account name: the observation lands on that person and their window."""
    app = hall.app  # type: ignore[attr-defined]
    async with app.state.core.db.read() as session:
        w3 = (await session.execute(select(User).where(User.username == "w3"))).scalar_one()  # type: ignore[arg-type]
    me = await supervisor(app, hall)
    r = await hall.post(
        OBSERVATIONS,
        json={"staff_no": w3.staff_no, "rating": 2, "comment": "态度生硬，推诿"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    seen = r.json()
    assert seen["window"] == 3 and seen["staff_no"] == w3.staff_no
    assert seen["department_name"] == "县自然资源局" and seen["rectification"] is not None
    rect = (
        await hall.get(
            f"/api/v1/rectifications/{seen['rectification']}", headers=await login(hall, "head")
        )
    ).json()
    assert rect["window"] == 3
    # An unknown number is a 404; a number and a window at once is not one subject.
    for body, status in (
        ({"staff_no": "GH9999", "rating": 2, "comment": "x"}, 404),
        ({"staff_no": w3.staff_no, "window": 3, "rating": 2, "comment": "x"}, 422),
    ):
        r = await hall.post(OBSERVATIONS, json=body, headers=me)
        assert r.status_code == status, (body, r.text)
