"""What staff may see and do around ratings (issue 17), beyond the track tokens:

- ``office.*`` payloads reach the hall's inspectors and admins, and heads for events of their
  own departments; window staff, displays and the public get ``{"type", "seq"}``.
- Staff act on a waiting ticket (cancel, transfer) only when their window serves its service.
- A rating from a browser holding a staff session is refused and recorded for the office.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.support.client import KIOSK, csrf_from, login, page_login
from tests.support.ratings import add_head
from tests.support.realtime import Display, Served, display, serve
from tests.support.server import start_server
from tests.support.trust import drain, ok, pad, serve_one, take, window_ids
from window_service.feedback.models import Feedback
from window_service.ledger import AuditRecord


@pytest.fixture
async def served(db_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    async with serve(db_url, tmp_path, ws_heartbeat_seconds=5) as s:
        yield s


async def bad_rating(http: httpx.AsyncClient, service: str, window: int) -> dict[str, Any]:
    ticket = await take(http, service)
    ids = await window_ids(http)
    await serve_one(http, await login(http, f"w{window}"), ids[window])
    return await ok(
        http.post(f"/api/v1/track/{ticket['track_token']}/feedback", json={"rating": 1}), 201
    )


def office_events(d: Display, after: int) -> list[dict[str, Any]]:
    return [m for m in d.received if m["type"].startswith("office.") and m["seq"] > after]


async def test_office_payloads_reach_the_office_and_heads_of_the_department_only(
    served: Served, db_url: str
) -> None:
    await add_head(db_url, "head_gongan", "gongan")  # 县公安局 only (户籍)
    http = served.http
    names = ("admin", "office", "head", "head_gongan", "w1", "w3")
    who = {name: await login(http, name) for name in names}
    async with AsyncExitStack() as stack:
        sockets = {
            name: await stack.enter_async_context(
                display(served.ws_url, additional_headers=who[name])
            )
            for name in names
        }
        sockets["kiosk"] = await stack.enter_async_context(
            display(served.ws_url, additional_headers=KIOSK)
        )
        sockets["pad"] = await stack.enter_async_context(
            display(served.ws_url, additional_headers=pad(1))
        )
        sockets["public"] = await stack.enter_async_context(display(served.ws_url))
        start = max([(await d.next())["seq"] for d in sockets.values()])
        hukou = await bad_rating(http, "hukou", 1)  # 县公安局
        budongchan = await bad_rating(http, "budongchan", 3)  # 县自然资源局
        await drain(sockets, await served.state.events.last_seq(1))

    def feedback(name: str) -> dict[int, dict[str, Any]]:
        got = [m for m in office_events(sockets[name], start) if m["type"] == "office.feedback"]
        assert len(got) == 2, (name, got)
        return {i: m for i, m in enumerate(got)}

    for name in ("admin", "office", "head"):
        seen = feedback(name)
        assert seen[0]["id"] == hukou["id"] and seen[0]["rating"] == 1
        assert seen[1]["id"] == budongchan["id"] and seen[1]["ticket"] == budongchan["ticket"]
        kinds = {m["type"] for m in office_events(sockets[name], start)}
        assert {"office.feedback", "office.rectification"} <= kinds
        assert all(len(m) > 2 for m in office_events(sockets[name], start)), name
    own = feedback("head_gongan")
    assert own[0]["rating"] == 1 and own[0]["ticket"] == hukou["ticket"]
    assert set(own[1]) == {"type", "seq"}  # another department's rating
    rects = [
        m for m in office_events(sockets["head_gongan"], start) if "rectification" in m["type"]
    ]
    assert [len(m) > 2 for m in rects] == [True, False]
    for name in ("w1", "w3", "kiosk", "pad", "public"):
        got = office_events(sockets[name], start)
        assert len(got) >= 4, name
        assert all(set(m) == {"type", "seq"} for m in got), (name, got)
        # seq stays contiguous for them too
        seqs = [m["seq"] for m in sockets[name].received[1:] if m["type"] != "heartbeat"]
        assert seqs == list(range(start + 1, start + 1 + len(seqs))), name


def _ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws/halls/demo/display"


@pytest.mark.slow
async def test_office_payload_scoping_holds_across_processes(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL: an event committed by one process reaches the other's sockets with the
    same scoping (the department travels with the event through the log)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("cross-process delivery needs PostgreSQL")
    await add_head(db_url, "head_gongan", "gongan")
    a, b = await asyncio.gather(
        asyncio.to_thread(start_server, db_url, tmp_path),
        asyncio.to_thread(start_server, db_url, tmp_path),
    )
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as http:
            head = await login(http, "head_gongan")
            office = await login(http, "office")
            w1 = await login(http, "w1")
            async with (
                display(_ws(b.url), additional_headers=head) as head_socket,
                display(_ws(b.url), additional_headers=office) as office_socket,
                display(_ws(b.url), additional_headers=w1) as staff_socket,
            ):
                start = (await head_socket.next())["seq"]
                await office_socket.next()
                await staff_socket.next()
                await bad_rating(http, "hukou", 1)
                await bad_rating(http, "budongchan", 3)
                for d in (head_socket, office_socket, staff_socket):
                    await d.until(lambda m: m["type"] == "office.feedback" and m["seq"] > start)
                    await d.until(lambda m: m["type"] == "office.feedback")
        mine, other = [
            m for m in head_socket.received if m["type"] == "office.feedback" and m["seq"] > start
        ]
        assert mine["rating"] == 1 and set(other) == {"type", "seq"}
        assert all(len(m) > 2 for m in office_socket.received if m["type"] == "office.feedback")
        assert all(
            set(m) == {"type", "seq"}
            for m in staff_socket.received
            if m["type"].startswith("office.")
        )
    finally:
        a.stop()
        b.stop()


async def test_staff_act_on_waiting_tickets_only_of_services_their_window_serves(
    client: httpx.AsyncClient,
) -> None:
    b = await take(client, "budongchan")
    e = await take(client, "shuiwu")
    a = await take(client, "hukou")
    w2 = await login(client, "w2")  # serves 户籍 only
    refused = await client.post(f"/api/v1/tickets/{b['id']}/cancel", headers=w2)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_your_service"
    pulled = await client.post(
        f"/api/v1/tickets/{e['id']}/transfer", json={"service": "hukou"}, headers=w2
    )
    assert pulled.status_code == 403
    # Nothing changed: both still wait where they were.
    for ticket, service in ((b, "budongchan"), (e, "shuiwu")):
        seen = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=w2)).json()
        assert seen["status"] == "waiting" and seen["service"] == service
    # The windows that serve them may; so may the admin; a head may not touch the queue.
    w7 = await login(client, "w7")
    moved = await client.post(
        f"/api/v1/tickets/{e['id']}/transfer", json={"service": "hukou"}, headers=w7
    )
    assert moved.status_code == 200 and moved.json()["service"] == "hukou"
    assert (await client.post(f"/api/v1/tickets/{e['id']}/cancel", headers=w2)).status_code == 200
    w3 = await login(client, "w3")
    assert (await client.post(f"/api/v1/tickets/{b['id']}/cancel", headers=w3)).status_code == 200
    head = await login(client, "head")
    assert (await client.post(f"/api/v1/tickets/{a['id']}/cancel", headers=head)).status_code == 403
    admin = await login(client, "admin")
    assert (
        await client.post(f"/api/v1/tickets/{a['id']}/cancel", headers=admin)
    ).status_code == 200


async def refused_count(client: httpx.AsyncClient, via: str) -> float:
    """The metric of staff ratings refused (counters are per process: tests read the change)."""
    text = (await client.get("/metrics")).text
    pattern = r'window_service_staff_ratings_refused_total\{[^}]*via="' + via + r'"[^}]*\} (\S+)'
    return sum(float(value) for value in re.findall(pattern, text))


async def test_a_rating_from_a_browser_with_a_staff_session_is_refused_and_recorded(
    client: httpx.AsyncClient, app: Any
) -> None:
    ticket = await take(client, "hukou")
    ids = await window_ids(client)
    w1 = await login(client, "w1")
    await serve_one(client, w1, ids[1])
    office = await login(client, "office")
    counted = {via: await refused_count(client, via) for via in ("session", "token")}
    assert (await page_login(client, "w1")).status_code == 303  # the browser holds a session
    url = f"/api/v1/track/{ticket['track_token']}/feedback"
    csrf = csrf_from((await client.get("/terminal")).text)
    attempts = [
        {},  # the cookie alone (no CSRF token)
        {"X-CSRF-Token": csrf},
        pad(1),  # the window's pad key, from a browser that holds a staff session
    ]
    for headers in attempts:
        refused = await client.post(url, json={"rating": 5}, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["error"]["code"] == "staff_cannot_rate"
    bearer = await client.post(url, json={"rating": 5}, headers=w1)
    assert bearer.status_code == 403
    client.cookies.clear()

    db = app.state.core.db
    async with db.read() as session:
        records = list(
            (
                await session.execute(
                    select(AuditRecord)
                    .where(AuditRecord.action == "feedback.staff_refused")  # type: ignore[arg-type]
                    .order_by(AuditRecord.seq)  # type: ignore[arg-type]
                )
            ).scalars()
        )
        stored = (await session.execute(select(func.count()).select_from(Feedback))).scalar_one()
    assert len(records) == 4 and stored == 0
    assert {r.actor for r in records} == {"user:w1"}
    assert [r.after["via"] for r in records] == ["session", "session", "session", "token"]
    assert records[0].entity == "ticket" and records[0].entity_id == str(ticket["id"])
    # The office sees it in its figures stream; the metric counts it.
    assert await refused_count(client, "session") == counted["session"] + 3
    assert await refused_count(client, "token") == counted["token"] + 1
    # The citizen's own rating (the window's pad, no session) still goes through.
    rated = await client.post(url, json={"rating": 4}, headers=pad(1))
    assert rated.status_code == 201, rated.text
    assert rated.json()["channel"] == "pad" and rated.json()["rectification"] is None
    # An office socket would have seen the attempts: the events carry the ticket's department.
    async with db.read() as session:
        from window_service.ledger import HallEvent

        events = list(
            (
                await session.execute(
                    select(HallEvent).where(HallEvent.type == "office.staff_rating_refused")  # type: ignore[arg-type]
                )
            ).scalars()
        )
    assert len(events) == 4 and events[0].payload["ticket"] == ticket["number"]
    assert events[0].payload["window"] == 1 and events[0].payload["department_id"]
    assert office  # signed in above: the office reads these payloads (see the socket tests)


async def test_the_feedback_answer_names_the_rectification_it_opened(
    client: httpx.AsyncClient,
) -> None:
    ticket = await take(client, "hukou")
    ids = await window_ids(client)
    await serve_one(client, await login(client, "w1"), ids[1])
    answer = await client.post(
        f"/api/v1/track/{ticket['track_token']}/feedback", json={"rating": 2}
    )
    assert answer.status_code == 201, answer.text
    rect = answer.json()["rectification"]
    assert isinstance(rect, int)
    office = await login(client, "office")
    listed = (await client.get("/api/v1/rectifications", headers=office)).json()
    assert [r["id"] for r in listed] == [rect] and listed[0]["ticket"] == ticket["number"]


async def test_the_pad_gets_the_rating_link_and_staff_never_do(client: httpx.AsyncClient) -> None:
    ids = await window_ids(client)
    url = f"/api/v1/windows/{ids[1]}/last-finished"
    idle = await client.get(url, headers=pad(1))
    assert idle.status_code == 200 and idle.json()["ticket"] is None
    ticket = await take(client, "hukou")
    w1 = await login(client, "w1")
    await serve_one(client, w1, ids[1])
    by_pad = (await client.get(url, headers=pad(1))).json()
    assert by_pad["ticket"]["track_token"] == ticket["track_token"]
    assert by_pad["ticket"]["track_url"] == ticket["track_url"]
    assert by_pad["rating_seconds"] == 60 and by_pad["seconds_since_finished"] >= 0
    by_staff = await client.get(url, headers=w1)
    assert by_staff.status_code == 200
    assert ticket["track_token"] not in by_staff.text and "/t/" not in by_staff.text
    # The same for the staff views of the ticket, and for the track endpoint itself.
    for path in (f"/api/v1/tickets/{ticket['id']}", f"/api/v1/track/{ticket['track_token']}"):
        seen = await client.get(path, headers=w1)
        assert seen.status_code == 200 and ticket["track_token"] not in seen.text, path
    # The hall's office can lengthen the pad's rating time.
    office = await login(client, "office")
    changed = await client.put(
        "/api/v1/halls/demo/accountability-config",
        json={"pad_rating_seconds": 120, "reason": "评价器保留两分钟"},
        headers=office,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get(url, headers=pad(1))).json()["rating_seconds"] == 120
