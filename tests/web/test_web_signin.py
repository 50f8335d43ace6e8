"""Signing in to the pages: session cookie, CSRF, roles, language."""

from __future__ import annotations

import re

import httpx

from tests.support.client import KIOSK, csrf_from, issue, page_login
from tests.support.dbs import DEMO_PASSWORD


async def test_wrong_password_shows_chinese_error(client: httpx.AsyncClient) -> None:
    response = await page_login(client, "w1", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert (await client.get("/terminal")).status_code == 303


async def test_login_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"username": "w1", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.text
    assert (await client.get("/terminal")).status_code == 303


async def test_staff_land_on_terminal_and_office_on_office(client: httpx.AsyncClient) -> None:
    response = await page_login(client, "w1")
    assert response.status_code == 303
    assert response.headers["location"] == "/terminal"
    client.cookies.clear()
    response = await page_login(client, "office")
    assert response.headers["location"] == "/office"


async def test_session_drives_api_calls_with_csrf_header(client: httpx.AsyncClient) -> None:
    before = client.cookies.get("window_service_session")
    assert (await page_login(client, "w1")).status_code == 303
    assert client.cookies.get("window_service_session") != before  # rotated on sign-in
    terminal = await client.get("/terminal")
    assert terminal.status_code == 200
    token = csrf_from(terminal.text)
    await issue(client, "hukou")
    windows = (await client.get("/api/v1/halls/demo/windows")).json()
    window_id = next(w["id"] for w in windows if w["number"] == 1)
    # Without the header the cookie alone is not enough (CSRF).
    refused = await client.post(f"/api/v1/windows/{window_id}/call-next")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    called = await client.post(
        f"/api/v1/windows/{window_id}/call-next", headers={"X-CSRF-Token": token}
    )
    assert called.status_code == 200, called.text
    assert called.json()["number"] == "A001"
    state = (await client.get("/terminal/state")).json()
    assert state["window"]["number"] == 1
    assert state["current"]["number"] == "A001"
    assert state["current"]["recalls"] == 0


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await page_login(client, "w1")
    token = csrf_from((await client.get("/terminal")).text)
    windows = (await client.get("/api/v1/halls/demo/windows")).json()
    window_id = next(w["id"] for w in windows if w["number"] == 1)
    assert (await client.post("/logout", data={"csrf_token": token})).status_code == 303
    assert (await client.get("/terminal")).status_code == 303
    response = await client.post(
        f"/api/v1/windows/{window_id}/pause", headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 401


async def test_logout_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    await page_login(client, "w1")
    response = await client.post("/logout", data={})
    assert response.status_code == 403
    assert (await client.get("/terminal")).status_code == 200


async def test_role_gating(client: httpx.AsyncClient) -> None:
    anonymous_terminal = await client.get("/terminal")
    assert anonymous_terminal.status_code == 303
    assert anonymous_terminal.headers["location"].startswith("/login?next=/terminal")
    assert (await client.get("/office")).status_code == 303

    await page_login(client, "office")
    forbidden = await client.get("/terminal")
    assert forbidden.status_code == 403
    assert "无权访问此页面" in forbidden.text
    assert (await client.get("/office")).status_code == 200
    assert (await client.get("/terminal/state")).status_code == 403

    client.cookies.clear()
    await page_login(client, "w2")
    assert (await client.get("/office")).status_code == 403
    assert (await client.get("/terminal")).status_code == 200


async def test_next_only_goes_to_this_site(client: httpx.AsyncClient) -> None:
    page = await client.get("/login?next=//evil.example/x")
    response = await client.post(
        "/login",
        data={
            "username": "w1",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/terminal"


async def test_english_pages(client: httpx.AsyncClient) -> None:
    switch = re.search(
        r'href="([^"]*)" hreflang="en"', (await client.get("/login?next=/office")).text
    )
    assert switch and "next=%2Foffice" in switch.group(1) and "lang=en" in switch.group(1)
    page = await client.get("/login?lang=en")
    assert "Staff sign-in" in page.text
    assert "工作人员登录" not in page.text
    # Remembered in a cookie.
    assert "Staff sign-in" in (await client.get("/login")).text
    assert "工作人员登录" in (await client.get("/login?lang=zh")).text
    await page_login(client, "w3")
    terminal = (await client.get("/terminal?lang=en")).text
    assert 'Window <b id="window-number">3</b>' in terminal
    assert "Call next" in terminal
    assert "叫号" not in terminal.split("</header>", 1)[1].split('id="i18n-catalog"')[0]


async def test_a_device_key_is_not_a_signed_in_person(client: httpx.AsyncClient) -> None:
    response = await client.get("/terminal", headers=KIOSK)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_tracking_page(client: httpx.AsyncClient) -> None:
    ticket = await issue(client, "hukou")
    page = await client.get(f"/t/{ticket['track_token']}")
    assert page.status_code == 200
    assert ticket["number"] in page.text
    assert "户籍业务" in page.text
    assert "等候中" in page.text
    missing = await client.get("/t/not-a-real-token-123")
    assert missing.status_code == 404
    assert "没有这个号票" in missing.text


async def test_start_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert 'href="/kiosk/demo"' in page.text
    assert 'href="/login"' in page.text
    await page_login(client, "office")
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/office"


async def test_api_calls_without_a_cookie_get_none(client: httpx.AsyncClient) -> None:
    """A kiosk's call carries no cookie and gets none back (the session middleware is skipped
    for it, see auth/sessions.py); a page's first visit still gets its session."""
    client.cookies.clear()
    issued = await client.post(
        "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK
    )
    assert issued.status_code == 201 and "set-cookie" not in issued.headers
    services = await client.get("/api/v1/halls/demo/services")
    assert services.status_code == 200 and "set-cookie" not in services.headers
    login_page = await client.get("/login")
    assert "window_service_session=" in login_page.headers["set-cookie"]
