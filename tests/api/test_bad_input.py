"""Bad input: dates outside the hall's life, Unicode digits, unknown halls on the socket, 405.

The date test is built from the OpenAPI document: every query parameter and body field that
is a date, a date-time or a period (``x-period``) is sent values outside the hall's life, so
an endpoint added later is covered without anyone remembering to add it here.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.client import KIOSK, login, page_login
from tests.support.realtime import serve
from tests.support.regions import DEMO_REGION, region_office
from tests.support.supervisors import supervisor
from window_service.api.openapi import build_openapi
from window_service.app import API_PREFIX, API_ROUTERS
from window_service.auth.roles import REGION_INSPECTOR

#: Who signs in for an endpoint open to a role (the first role of the endpoint that has one).
ACCOUNTS = {"admin": "admin", "inspector": "office", "head": "head", "staff": "w1"}
BAD_DAYS = ["0001-01-01", "1999-12-31", "9999-12-27", "2028-06-01", "２０２６-１１-２６"]
BAD_MOMENTS = ["0001-01-01T00:00:00", "1999-12-31T23:00:00+08:00", "9999-12-31T23:59:59"]
BAD_PERIODS = ["9999-12", "0000-01", "0001-Q1", "1999-12", "2029-Q1", "２０２６-１１"]
BAD_STATS_PERIODS = [*BAD_PERIODS, "0001-01-01", "9999-12-31"]


def _openapi() -> dict[str, Any]:
    specs = [spec for router in API_ROUTERS for spec in router.specs]
    doc: dict[str, Any] = build_openapi(specs, prefix=API_PREFIX, version="test")
    return doc


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _kind(doc: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """``day``, ``moment``, ``period``, ``stats_period`` or None for other values."""
    schema = _resolve(doc, schema)
    for option in schema.get("anyOf", []):
        if kind := _kind(doc, option):
            return kind
    if schema.get("format") == "date":
        return "day"
    if schema.get("format") == "date-time":
        return "moment"
    if schema.get("x-period"):
        return "stats_period" if "-[0-9]{2})?" in schema.get("pattern", "") else "period"
    return None


def date_inputs() -> list[Any]:
    """(method, path, where, name, kind) of every date the API takes, from its OpenAPI."""
    doc = _openapi()
    found = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                if kind := _kind(doc, param.get("schema", {})):
                    found.append((method.upper(), path, param["in"], param["name"], kind))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = _resolve(doc, body["schema"])
                for name, prop in schema.get("properties", {}).items():
                    if kind := _kind(doc, prop):
                        found.append((method.upper(), path, "body", name, kind))
    return [pytest.param(*f, id=f"{f[0]} {f[1]} {f[3]}") for f in found]


DATE_INPUTS = date_inputs()
VALUES = {
    "day": BAD_DAYS,
    "moment": BAD_MOMENTS,
    "period": BAD_PERIODS,
    "stats_period": BAD_STATS_PERIODS,
}


def _roles(method: str, path: str) -> tuple[str, ...]:
    for router in API_ROUTERS:
        for spec in router.specs:
            if spec.method == method and API_PREFIX + spec.path.replace(":int", "") == path:
                return spec.roles
    raise AssertionError(f"no spec for {method} {path}")


def test_the_known_date_inputs_are_found() -> None:
    """The OpenAPI scan sees the endpoints of the issue (so the scan itself is not empty)."""
    names = {(p.values[0], p.values[1], p.values[3]) for p in DATE_INPUTS}
    assert ("GET", "/api/v1/halls/{hall}/ratings", "period") in names
    assert ("POST", "/api/v1/halls/{hall}/ratings/publish", "period") in names
    assert ("GET", "/api/v1/halls/{hall}/stats", "period") in names
    assert ("GET", "/api/v1/halls/{hall}/stats/export", "period") in names
    assert ("POST", "/api/v1/halls/{hall}/visit-plans", "week_start") in names
    assert ("GET", "/api/v1/accountability/figures", "start") in names
    assert ("POST", "/api/v1/inspections", "visited_at") in names


@pytest.mark.parametrize(("method", "path", "where", "name", "kind"), DATE_INPUTS)
async def test_dates_outside_the_halls_life_are_422_invalid_period(
    app: Any, client: httpx.AsyncClient, method: str, path: str, where: str, name: str, kind: str
) -> None:
    roles = _roles(method, path)
    headers: dict[str, str] = {}
    if roles == (REGION_INSPECTOR,):
        headers = await region_office(app, client)
        path = path.replace("{region}", DEMO_REGION)
    elif roles == ("supervisor",):  # 特邀廉政监督员: an account made for the test
        headers = await supervisor(app, client)
    elif "public" not in roles:
        role = next(r for r in roles if r in ACCOUNTS or r == "kiosk")
        headers = KIOSK if role == "kiosk" else await login(client, ACCOUNTS[role])
    url = path.replace("{hall}", "demo")
    for value in VALUES[kind]:
        if where == "query":
            response = await client.request(method, url, params={name: value}, headers=headers)
        else:
            response = await client.request(method, url, json={name: value}, headers=headers)
        assert response.status_code == 422, (value, response.text)
        assert response.json()["error"]["code"] == "invalid_period", (value, response.text)
        # The connection and the app are still fine afterwards.
        assert (await client.get("/healthz")).status_code == 200


async def test_dates_inside_the_halls_life_still_work(client: httpx.AsyncClient) -> None:
    office = await login(client, "office")
    for period in ("2026-11", "2026-Q4", "2000-01"):
        r = await client.get(
            "/api/v1/halls/demo/ratings", params={"period": period}, headers=office
        )
        assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/halls/demo/stats", params={"period": "2026-11-26"}, headers=office
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/accountability/figures",
        params={"start": "2026-11-01", "end": "2026-11-26"},
        headers=office,
    )
    assert r.status_code == 200, r.text


async def test_stats_page_refuses_an_out_of_range_period(client: httpx.AsyncClient) -> None:
    await page_login(client, "office")
    for period in ("0001-01-01", "9999-12", "２０２６-１１"):
        r = await client.get("/office/stats", params={"period": period})
        assert r.status_code == 200, r.text
        # The page says so in words and falls back to this month.
        assert "统计期间无效" in r.text


async def _raw_exchange(port: int, requests: list[bytes]) -> list[bytes]:
    """Send requests one after another on one connection; the raw answers (b"" once closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for request in requests:
            writer.write(request)
            await writer.drain()
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await asyncio.wait_for(reader.read(1), 10)
                if not chunk:
                    break
                head += chunk
            if not head:
                answers.append(b"")
                continue
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await asyncio.wait_for(reader.readexactly(length), 10)
            answers.append(head + body)
    finally:
        writer.close()
    return answers


async def test_an_unexpected_error_is_a_500_answer_and_the_connection_stays_open(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from window_service.queue import routes as queue_routes

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(queue_routes, "get_hall", broken)
    async with serve(db_url, tmp_path) as served:
        port = int(served.url.rsplit(":", 1)[1])
        get = b"GET /api/v1/halls/demo/services HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        first, second = await _raw_exchange(port, [get, health])
    assert first.startswith(b"HTTP/1.1 500"), first
    assert b'"internal_error"' in first
    assert second.startswith(b"HTTP/1.1 200"), second


async def test_display_socket_of_an_unknown_hall_closes_with_4404(
    db_url: str, tmp_path: Path
) -> None:
    async with serve(db_url, tmp_path) as served:
        url = served.url.replace("http://", "ws://") + "/ws/halls/nosuchhall/display"
        async with connect(url, open_timeout=15) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4404


async def test_display_socket_takes_no_unicode_digits_for_after(
    db_url: str, tmp_path: Path
) -> None:
    """``after=１２`` is no position (a snapshot), where ``after=1`` replays from seq 2."""
    async with serve(db_url, tmp_path) as served:
        for _ in range(3):
            r = await served.http.post(
                "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
            )
            assert r.status_code == 201
        for after in ("１", "٣", "1a"):
            async with connect(f"{served.ws_url}?after={after}", open_timeout=15) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "snapshot", (after, first)
        async with connect(f"{served.ws_url}?after=1", open_timeout=15) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] != "snapshot" and first["seq"] == 2


async def test_unicode_digits_are_not_numbers_in_paths_and_queries(
    client: httpx.AsyncClient,
) -> None:
    office = await login(client, "office")
    r = await client.get("/api/v1/inspections", params={"limit": "１０"}, headers=office)
    assert r.status_code == 422, r.text
    r = await client.get("/api/v1/windows/１/call-next", headers=office)
    assert r.status_code in (404, 405), r.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/halls/demo/tickets", {"POST"}),
        ("PATCH", "/api/v1/calendar/years/2026", {"GET", "HEAD", "PUT"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("DELETE", "/api/v1/halls/demo/services", {"GET", "HEAD", "POST"}),
    ],
)
async def test_405_names_the_allowed_methods(
    client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    r = await client.request(method, path, headers=KIOSK)
    assert r.status_code == 405, r.text
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
