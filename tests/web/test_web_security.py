"""Pages and links that trust nobody: CSP on every page, HTTPS-only cookie and HSTS, no
links built from a made-up Host header, and the password policy at every place one is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from tests.support.client import KIOSK, issue, login, page_login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.server import start_server
from tests.support.settings import make_settings
from window_service.app import create_app, page_routes
from window_service.auth.passwords import password_problem

#: A value for each path parameter of a page (the demo hall's).
PATH_VALUES = {
    "hall": "demo",
    "number": "1",
    "window": "1",
    "token": "unknown-token-123456",
    "key": "unknown-ballot-key-123456",
    "receipt_no": "unknown",
    "seq": "1",
    "id": "1",
    "code": "unknown",
}


def page_paths() -> list[str]:
    paths = []
    for route in page_routes():
        if isinstance(route, Route) and route.methods and "GET" in route.methods:
            path = route.path
            for name, value in PATH_VALUES.items():
                path = path.replace("{" + name + "}", value).replace("{" + name + ":int}", value)
            assert "{" not in path, path
            paths.append(path)
    return paths


async def test_every_page_sends_a_content_security_policy(client: httpx.AsyncClient) -> None:
    signed_in = await page_login(client, "admin")
    assert signed_in.status_code == 303
    seen_html = 0
    for path in page_paths():
        response = await client.get(path)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        seen_html += 1
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp, (path, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (path, csp)
        assert "frame-ancestors 'none'" in csp, (path, csp)
        assert response.headers.get("x-content-type-options") == "nosniff", path
        # No inline code the policy would block (JSON data blocks are not scripts).
        text = response.text
        assert " onclick=" not in text and " onload=" not in text, path
        assert " style=" not in text and "<style" not in text, path
    assert seen_html >= 15
    # The signed-out pages too.
    client.cookies.clear()
    for path in ("/login", "/lookup", "/t/unknown-token-123456", "/office", "/terminal"):
        response = await client.get(path, follow_redirects=True)
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path


@pytest.fixture
async def https_client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(db_url, tmp_path, public_url="https://hall.example.gov.cn")
    app = create_app(settings, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def test_https_public_url_makes_the_cookie_secure_and_sends_hsts(
    https_client: httpx.AsyncClient,
) -> None:
    page = await https_client.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    cookie = page.headers["set-cookie"]
    assert "window_service_session=" in cookie and "secure" in cookie.lower(), cookie
    ticket = await issue(https_client)
    assert ticket["track_url"].startswith("https://hall.example.gov.cn/t/")
    api = await https_client.get("/api/v1/halls/demo/services")
    assert "strict-transport-security" in api.headers


async def test_plain_http_sends_no_hsts_and_no_secure_flag(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert "strict-transport-security" not in page.headers
    assert "secure" not in page.headers["set-cookie"].lower()


@pytest.mark.slow
def test_forwarded_proto_counts_only_from_a_trusted_proxy(db_url: str, tmp_path: Path) -> None:
    trusted = start_server(
        db_url, tmp_path, extra_env={"WINDOW_SERVICE_TRUSTED_PROXIES": "127.0.0.1"}
    )
    try:
        page = httpx.get(f"{trusted.url}/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in page.headers
        assert "secure" in page.headers["set-cookie"].lower()
    finally:
        trusted.stop()
    untrusted = start_server(db_url, tmp_path)
    try:
        page = httpx.get(f"{untrusted.url}/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in page.headers
        assert "secure" not in page.headers["set-cookie"].lower()
    finally:
        untrusted.stop()


@pytest.mark.slow
async def test_links_never_start_with_a_made_up_host(db_url: str, tmp_path: Path) -> None:
    server = start_server(db_url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            evil = {**KIOSK, "Host": "evil.example"}
            r = await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=evil)
            assert r.status_code == 201, r.text
            assert "evil.example" not in r.json()["track_url"]
            assert r.json()["track_url"].startswith(f"http://127.0.0.1:{server.port}/t/")
            qr = await c.get(
                "/qr.svg",
                params={"data": f"http://evil.example/t/{r.json()['track_token']}"},
                headers={"Host": "evil.example"},
            )
            assert qr.status_code == 422
            # An allowed host name (localhost) is used as given.
            local = {**KIOSK, "Host": f"localhost:{server.port}"}
            r = await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=local)
            assert r.json()["track_url"].startswith(f"http://localhost:{server.port}/t/")
    finally:
        server.stop()


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password",
        "qwertyuiop",
        "iloveyou1",
        "w9w9w9w9",
        "demo2026hall",
        "王九王九-2026",
    ],
)
async def test_common_and_context_passwords_are_refused_everywhere(
    client: httpx.AsyncClient, password: str
) -> None:
    admin = await login(client, "admin")
    staff = {
        "username": "w9",
        "display_name": "王九",
        "role": "staff",
        "window": 8,
        "password": password,
    }
    r = await client.post("/api/v1/halls/demo/staff", json=staff, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "weak_password"
    r = await client.patch("/api/v1/staff/w2", json={"password": password}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "weak_password"
    assert await login(client, "w2", DEMO_PASSWORD)  # unchanged


async def test_a_strong_password_is_taken(client: httpx.AsyncClient) -> None:
    admin = await login(client, "admin")
    r = await client.patch("/api/v1/staff/w2", json={"password": "Quartz-Meadow-93"}, headers=admin)
    assert r.status_code == 200, r.text
    assert await login(client, "w2", "Quartz-Meadow-93")


def test_password_policy() -> None:
    context: list[Any] = ["zhangsan", "张三", "demo", "示范县政务服务中心"]
    assert password_problem("1234567", context) is not None  # too short
    assert password_problem("12345678", context) is not None  # top-10 common
    assert password_problem("zhangsan2026!", context) is not None  # the username
    assert password_problem("张三的密码很长很长", context) is not None  # the name
    assert password_problem("Demo-Hall-7781", context) is not None  # the hall code
    assert password_problem(DEMO_PASSWORD, context) is None
    assert password_problem("correct horse battery staple", context) is None
