"""Staff can neither rate themselves nor learn who rated them (issue 17): no answer to a
person's credential (staff, head, inspector, admin), no page they see and no websocket message
holds a citizen's track token or tracking link; the kiosk and the window's evaluator pad do.
(Who receives ``office.*`` payloads, what staff may act on, a staff browser's rating:
``test_office_payloads.py``.)
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import KIOSK, login, page_login
from tests.support.realtime import Served, display, serve
from tests.support.trust import drain, ok, pad, serve_one, take, window_ids
from window_service.api.endpoint import PUBLIC
from window_service.app import API_PREFIX, API_ROUTERS
from window_service.app import PAGE_ROUTES as page_routes
from window_service.auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from window_service.queue.models import Ticket

TRACK_LINK = re.compile(r"/t/[A-Za-z0-9_-]{8,}")
PERSONS = {"admin": ADMIN, "office": INSPECTOR, "head": HEAD, "w1": STAFF, "w3": STAFF, "w8": STAFF}


@pytest.fixture
async def served(db_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    async with serve(db_url, tmp_path, ws_heartbeat_seconds=5) as s:
        yield s


class Answers:
    """Every answer the server gave to a request carrying a person's credential."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def hook(self, response: httpx.Response) -> None:
        request = response.request
        if "authorization" in request.headers or "cookie" in request.headers:
            await response.aread()
            label = f"{request.method} {request.url.path} → {response.status_code}"
            self.seen.append((label, response.text))


async def a_day(http: httpx.AsyncClient, who: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Issuing, calling, finishing, cases, corrections, consultations, feedback (phone and
    pad), a rectification's first step and an undercover visit: what a hall does in a day."""
    ids = await window_ids(http)
    kiosk = [await take(http, s) for s in ("hukou", "hukou", "hukou", "budongchan", "qiye")]
    kiosk += [await take(http, s) for s in ("shebao", "shuiwu", "budongchan")]
    # Staff issue a ticket too: their answer never carries the token.
    by_staff = await ok(
        http.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=who["w1"]), 201
    )
    assert by_staff["track_token"] is None and by_staff["track_url"] is None

    first = await serve_one(http, who["w1"], ids[1])  # A001
    bad = await ok(
        http.post(
            f"/api/v1/track/{kiosk[0]['track_token']}/feedback",
            json={"rating": 1, "comment": "态度差", "contact": "13900000000"},
        ),
        201,
    )
    assert bad["rectification"] is not None

    # w3: a case (受理) with the applicant's name and phone; the pad rates it.
    called = await ok(http.post(f"/api/v1/windows/{ids[3]}/call-next", headers=who["w3"]))
    await ok(http.post(f"/api/v1/tickets/{called['id']}/start", headers=who["w3"]))
    case = await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/case",
            json={"applicant_name": "张小三", "applicant_phone": "13800138000"},
            headers=who["w3"],
        ),
        201,
    )
    await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/finish",
            json={"outcome": "accepted"},
            headers=who["w3"],
        )
    )
    pad_view = await ok(http.get(f"/api/v1/windows/{ids[3]}/last-finished", headers=pad(3)))
    assert pad_view["ticket"]["track_token"] == kiosk[3]["track_token"]
    await ok(
        http.post(
            f"/api/v1/track/{pad_view['ticket']['track_token']}/feedback",
            json={"rating": 5},
            headers=pad(3),
        ),
        201,
    )
    # w5: a case with a correction notice (补正), then a consultation at w6.
    w5 = await login(http, "w5")
    called = await ok(http.post(f"/api/v1/windows/{ids[5]}/call-next", headers=w5))
    await ok(http.post(f"/api/v1/tickets/{called['id']}/start", headers=w5))
    qiye = await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/case",
            json={"applicant_name": "李四", "applicant_phone": "13700137000"},
            headers=w5,
        ),
        201,
    )
    await ok(
        http.post(
            f"/api/v1/cases/{qiye['receipt_no']}/correction",
            json={"materials": ["章程"]},
            headers=w5,
        )
    )
    await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/finish", json={"outcome": "correction"}, headers=w5
        )
    )
    w6 = await login(http, "w6")
    await ok(
        http.post(
            "/api/v1/consultations",
            json={"service": "shebao", "summary": "咨询社保转移", "citizen_name": "王五"},
            headers=w6,
        ),
        201,
    )
    # w8 (综合窗口) transfers what it called; w2 cancels a waiting 户籍 ticket.
    called = await ok(http.post(f"/api/v1/windows/{ids[8]}/call-next", headers=who["w8"]))
    await ok(
        http.post(
            f"/api/v1/tickets/{called['id']}/transfer",
            json={"service": "shuiwu"},
            headers=who["w8"],
        )
    )
    w2 = await login(http, "w2")
    await ok(http.post(f"/api/v1/tickets/{kiosk[2]['id']}/cancel", headers=w2))
    w7 = await login(http, "w7")
    await serve_one(http, w7, ids[7])
    # The head starts on the rectification; the office visits window 1 and scores it low.
    await ok(
        http.post(
            f"/api/v1/rectifications/{bad['rectification']}/verify",
            json={"finding": "属实，已约谈", "substantiated": True},
            headers=who["head"],
        )
    )
    scores = {
        "on_duty": 10,
        "attitude": 10,
        "appearance": 10,
        "one_time_notice": 15,
        "efficiency": 5,
        "fees": 10,
        "integrity": 10,
    }
    await ok(
        http.post(
            "/api/v1/inspections",
            json={
                "window": ids[1],
                "staff": "w1",
                "visited_at": "2026-11-26T09:30:00+08:00",
                "template": "standard",
                "scores": scores,
                "notes": "离岗",
            },
            headers=who["office"],
        ),
        201,
    )
    return {
        "kiosk": kiosk,
        "first": first,
        "receipts": [case["receipt_no"], qiye["receipt_no"]],
        "windows": ids,
        "rectification": bad["rectification"],
    }


_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def expand(path: str, values: dict[str, list[str]]) -> list[str]:
    """``path`` with every combination of the candidate values of its parameters."""
    out = [path]
    for name in _PARAM.findall(path):
        key = name
        if name == "id":
            key = next((p for p in values if path.startswith(p)), "id")
        out = [
            _PARAM.sub(lambda m, v=v, n=name: v if m.group(1) == n else m.group(0), p, count=1)
            for p in out
            for v in values[key]
        ]
    return out


async def walk_api(
    http: httpx.AsyncClient, who: dict[str, dict[str, str]], values: dict[str, list[str]]
) -> int:
    """Call every endpoint each person may call (reads first, then writes with empty bodies).
    Returns how many answers were 2xx."""
    specs = [s for router in API_ROUTERS for s in router.specs]
    specs.sort(key=lambda s: s.method != "GET")
    good = 0
    for spec in specs:
        if spec.path == "/auth/token":
            continue
        for name, role in PERSONS.items():
            if PUBLIC not in spec.roles and role not in spec.roles:
                continue
            paths = expand(spec.path, values)
            if spec.method != "GET":
                paths = paths[:1]  # writes: one of each is enough to see the answer
            for path in paths:
                r = await http.request(
                    spec.method,
                    API_PREFIX + path,
                    headers=who[name],
                    json=None if spec.method == "GET" else {},
                )
                assert r.status_code < 500, (spec.method, path, name, r.text[:300])
                good += r.status_code < 300
    return good


async def walk_pages(url: str, answers: Answers, values: dict[str, list[str]]) -> int:
    """Every page (GET) each person's signed-in browser may open."""
    good = 0
    for name in PERSONS:
        async with httpx.AsyncClient(
            base_url=url, timeout=30, event_hooks={"response": [answers.hook]}
        ) as browser:
            assert (await page_login(browser, name)).status_code == 303
            for route in page_routes:
                path = getattr(route, "path", "")
                if "GET" not in (getattr(route, "methods", None) or ()):
                    continue
                if path.startswith(("/t/", "/book/manage/")) or path == "/qr.svg":
                    continue  # the citizen's own pages, opened with their token in hand
                for concrete in expand(path, values):
                    r = await browser.get(concrete)
                    assert r.status_code < 500, (name, concrete, r.text[:300])
                    good += r.status_code == 200
    return good


async def test_no_answer_page_or_socket_of_staff_holds_a_track_token(
    served: Served, db_url: str
) -> None:
    answers = Answers()
    http = served.http
    http.event_hooks["response"].append(answers.hook)
    who = {name: await login(http, name) for name in PERSONS}
    async with AsyncExitStack() as stack:
        sockets = {
            name: await stack.enter_async_context(
                display(served.ws_url, additional_headers=who[name])
            )
            for name in PERSONS
        }
        sockets["kiosk"] = await stack.enter_async_context(
            display(served.ws_url, additional_headers=KIOSK)
        )
        sockets["public"] = await stack.enter_async_context(display(served.ws_url))
        for d in sockets.values():
            await d.next()
        day = await a_day(http, who)
        await drain(sockets, await served.state.events.last_seq(1))

        async with served.state.db.read() as session:
            tokens = list((await session.execute(select(Ticket.track_token))).scalars())
            tickets = [str(i) for i in (await session.execute(select(Ticket.id))).scalars()]
        assert len(tokens) == 9
        values = {
            "hall": ["demo"],
            "/tickets/": tickets,
            "/windows/": [str(i) for i in day["windows"].values()],
            "/rectifications/": [str(day["rectification"])],
            "id": ["1", "2"],
            "token": [day["kiosk"][0]["track_token"], day["kiosk"][1]["track_token"]],
            # A 民主测评 member's personal ballot key (its own secret, not a track token).
            "key": ["k" * 32],
            "receipt_no": day["receipts"],
            "code": ["standard"],
            "year": ["2026"],
            "username": ["w1"],
            "number": ["1", "3"],
            "window": ["1", "3"],
            "seq": ["1"],
        }
        assert await walk_api(http, who, values) > 100
        assert await walk_pages(served.url, answers, values) > 20
        # A socket opened now starts with a snapshot, then replays from the day's start.
        async with display(served.ws_url, additional_headers=who["office"]) as late:
            sockets["late office"] = late
            await late.next()
        async with display(f"{served.ws_url}?after=0", additional_headers=who["admin"]) as replay:
            sockets["replay admin"] = replay
            await replay.until(lambda m: m["type"] == "heartbeat", heartbeats=True, within=120)

    assert len(answers.seen) > 300
    leaks = [
        label
        for label, text in answers.seen
        if any(token in text for token in tokens) or TRACK_LINK.search(text)
    ]
    assert not leaks, leaks[:20]
    for name, d in sockets.items():
        for message in d.received:
            text = json.dumps(message, ensure_ascii=False)
            assert not any(token in text for token in tokens), (name, message)
            assert not TRACK_LINK.search(text), (name, message)
    # The check has teeth: office sockets got payloads that name tickets.
    assert any(m.get("ticket") == "A001" for m in sockets["office"].received)
