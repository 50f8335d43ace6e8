"""Password guessing is slowed down: ten failures for one account lock it from that address."""

from __future__ import annotations

import httpx

from tests.conftest import login
from tests.dbs import DEMO_PASSWORD
from tests.test_web_signin import page_login
from window_service.auth.throttle import LoginThrottle


async def test_token_endpoint_refuses_a_guessed_account(client: httpx.AsyncClient) -> None:
    for _ in range(10):
        wrong = await client.post(
            "/api/v1/auth/token", json={"username": "w1", "password": "guess-123"}
        )
        assert wrong.status_code == 401
    locked = await client.post(
        "/api/v1/auth/token", json={"username": "w1", "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert "登录失败次数过多" in locked.json()["error"]["message"]
    # Another account (and so the rest of the hall) is not affected.
    assert await login(client, "w2")


async def test_sign_in_page_refuses_a_guessed_account(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for _ in range(10):
        wrong = await client.post(
            "/login", data={"username": "w3", "password": "guess-123", "csrf_token": token}
        )
        assert wrong.status_code == 401
    locked = await client.post(
        "/login", data={"username": "w3", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text
    signed_in = await page_login(client, "w4")  # another account signs in as usual
    assert signed_in.status_code == 303


def test_success_clears_and_old_failures_expire() -> None:
    throttle = LoginThrottle(limit=3, window=60)
    for _ in range(2):
        throttle.failed("w1", "10.0.0.1")
    throttle.succeeded("w1", "10.0.0.1")
    for _ in range(2):
        throttle.failed("w1", "10.0.0.1")
    assert throttle.blocked_for("w1", "10.0.0.1") == 0
    throttle.failed("w1", "10.0.0.1")
    assert throttle.blocked_for("w1", "10.0.0.1") > 0
    assert throttle.blocked_for("w1", "10.0.0.2") == 0  # another address
    zero = LoginThrottle(limit=1, window=0.0)
    zero.failed("w1", "a")
    assert zero.blocked_for("w1", "a") == 0  # the failure is already outside the window
