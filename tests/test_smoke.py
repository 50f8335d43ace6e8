"""The public surface a kiosk, display or integrator sees first: health, OpenAPI, the demo
hall's services and windows, a ticket's way from the kiosk to the window and to the phone."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.client import issue, login
from window_service.app import API_ROUTERS

DEMO_SERVICES = [
    ("A", "hukou", "户籍业务", "县公安局", 20, 5),
    ("B", "budongchan", "不动产登记", "县自然资源局", 30, 5),
    ("C", "qiye", "企业开办", "县市场监管局", 15, 1),
    ("D", "shebao", "社保医保", "县人社局", 20, 3),
    ("E", "shuiwu", "税务办理", "县税务局", 0, 0),
]
DEMO_WINDOWS = {
    1: ["hukou"],
    2: ["hukou"],
    3: ["budongchan"],
    4: ["budongchan"],
    5: ["qiye"],
    6: ["shebao"],
    7: ["shuiwu"],
    8: ["hukou", "budongchan", "qiye", "shebao", "shuiwu"],
}
TICKET_KEYS = {
    "id",
    "number",
    "service",
    "status",
    "priority",
    "queued_at",
    "ahead",
    "estimated_wait_minutes",
    "window",
    "track_token",
    "track_url",
}


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_openapi_describes_every_endpoint(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths: dict[str, Any] = doc["paths"]

    def documented(path: str) -> str:
        return "/api/v1" + re.sub(r"\{(\w+):\w+\}", r"{\1}", path)

    specs = [spec for router in API_ROUTERS for spec in router.specs]
    assert len(specs) >= 15
    for spec in specs:
        path = documented(spec.path)
        assert path in paths, f"{spec.method} {path} missing from OpenAPI"
        assert spec.method.lower() in paths[path], f"{spec.method} {path} missing"
    issue_op = paths["/api/v1/halls/{hall}/tickets"]["post"]
    assert "201" in issue_op["responses"] and "409" in issue_op["responses"]
    assert "requestBody" in issue_op
    call_op = paths["/api/v1/windows/{id}/call-next"]["post"]
    assert {"200", "204", "409"} <= set(call_op["responses"])


async def test_services_of_the_demo_hall(client: httpx.AsyncClient) -> None:
    await issue(client, "hukou")
    await issue(client, "hukou")
    r = await client.get("/api/v1/halls/demo/services")
    assert r.status_code == 200
    services = r.json()
    keys = {"code", "name", "prefix", "department", "waiting", "estimated_wait_minutes"}
    keys |= {"legal_days", "promised_days"}
    for item in services:
        assert keys <= set(item), item
    got = [
        (s["prefix"], s["code"], s["name"], s["department"], s["legal_days"], s["promised_days"])
        for s in services
    ]
    assert got == DEMO_SERVICES
    by_code = {s["code"]: s for s in services}
    # Nobody is on duty yet: no estimate. Window 8 (综合窗口) serves every service, so the
    # two hukou tickets stand before a new qiye ticket too.
    assert by_code["hukou"]["waiting"] == 2 and by_code["hukou"]["queue_waiting"] == 2
    assert by_code["hukou"]["estimated_wait_minutes"] is None
    assert by_code["qiye"]["waiting"] == 2 and by_code["qiye"]["queue_waiting"] == 0
    assert by_code["qiye"]["estimated_wait_minutes"] is None


async def test_windows_of_the_demo_hall(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/halls/demo/windows")
    assert r.status_code == 200
    windows = r.json()
    assert {w["number"]: w["services"] for w in windows} == DEMO_WINDOWS
    for w in windows:
        assert {"id", "number", "name", "services", "status", "current"} <= set(w)
        assert isinstance(w["id"], int) and w["status"] == "open" and w["current"] is None
    assert next(w for w in windows if w["number"] == 8)["name"] == "综合窗口"


async def test_a_ticket_from_kiosk_to_window_to_phone(client: httpx.AsyncClient) -> None:
    ticket = await issue(client)
    assert TICKET_KEYS <= set(ticket)
    assert ticket["number"] == "A001" and ticket["service"] == "hukou"
    assert ticket["status"] == "waiting" and ticket["priority"] is None and ticket["window"] is None
    # Nobody is on duty: the wait is unknown (the ticket says 「暂无窗口办理，请留意叫号」).
    assert ticket["ahead"] == 0 and ticket["estimated_wait_minutes"] is None
    assert ticket["queued_at"].endswith("+08:00"), "shown in hall time"
    assert ticket["track_url"].endswith(f"/t/{ticket['track_token']}")
    assert len(ticket["track_token"]) >= 16

    tracked = (await client.get(f"/api/v1/track/{ticket['track_token']}")).json()
    assert tracked["number"] == "A001" and tracked["status"] == "waiting"
    assert tracked["can_rate"] is False and tracked["hall"] == "demo"

    headers = await login(client, "w1")
    called = await client.post("/api/v1/windows/1/call-next", headers=headers)
    assert called.status_code == 200
    assert called.json()["number"] == "A001" and called.json()["window"] == 1
    windows = {w["number"]: w for w in (await client.get("/api/v1/halls/demo/windows")).json()}
    current = windows[1]["current"]
    assert current["number"] == "A001" and current["status"] == "called"

    tracked = (await client.get(f"/api/v1/track/{ticket['track_token']}")).json()
    assert tracked["status"] == "called" and tracked["window"] == 1
