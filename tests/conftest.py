"""Shared fixtures: a fresh demo hall on SQLite and PostgreSQL, an app, clients, a live server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.dbs import (
    AUDIT_KEY,
    DEMO_PASSWORD,
    KIOSK_KEY,
    PostgresTemplate,
    SqliteTemplate,
    postgres_admin_url,
)
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.config import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Databases the tests open themselves (``create_database(url)``), the CLI run in-process and
# served subprocesses seal and verify with the test hall's audit key.
os.environ["WINDOW_SERVICE_AUDIT_KEY"] = AUDIT_KEY
ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("window_service")


@pytest.fixture(scope="session")
async def templates(tmp_root: Path) -> AsyncIterator[dict[str, Any]]:
    out: dict[str, Any] = {}
    sqlite_root = tmp_root / "sqlite"
    sqlite_root.mkdir()
    sqlite = SqliteTemplate(sqlite_root)
    await sqlite.prepare()
    out["sqlite"] = sqlite
    admin = postgres_admin_url()
    if admin is not None:
        pg_root = tmp_root / "pg"
        pg_root.mkdir()
        pg = PostgresTemplate(admin, pg_root)
        await pg.prepare()
        out["postgresql"] = pg
    yield out
    for template in out.values():
        await template.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_url(templates: dict[str, Any], backend: str) -> AsyncIterator[str]:
    template = templates.get(backend)
    if template is None:
        pytest.skip(f"{backend} is not available")
    url = await template.fresh()
    yield url
    await template.drop(url)


def make_settings(db_url: str, var_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-not-for-production",
        audit_key=overrides.pop("audit_key", AUDIT_KEY),
        var_dir=var_dir,
        ws_heartbeat_seconds=overrides.pop("ws_heartbeat_seconds", 15.0),
        **overrides,
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    """The hall clock, standing at 10:00 on Thursday 26 November 2026 (hall time)."""
    return FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, run_housekeeping=False)
    yield application
    await application.state.core.db.dispose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c


KIOSK = {"X-Device-Key": KIOSK_KEY}

#: Where the browser tests leave their screenshots (linked from the README).
SHOTS = ROOT / "docs" / "screenshots"
#: Debian's Chromium, headless, with nothing reaching for the (closed) network.
CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium driven by Playwright (Playwright's own browsers are not used)."""
    from playwright.async_api import async_playwright

    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def wait_until(page: Any, expression: str, seconds: float = 10.0) -> None:
    """Wait until a JavaScript expression is truthy on a page that keeps its real CSP.

    Playwright's ``wait_for_function`` re-evaluates a string with ``eval`` from the page's own
    timers, which the pages' ``script-src 'self'`` rightly refuses, so it works only when the
    first look already succeeds. Polling from here goes through the DevTools protocol instead.
    """
    deadline = asyncio.get_running_loop().time() + seconds
    while not await page.evaluate(f"() => Boolean({expression})"):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {seconds:g} s: {expression}")
        await asyncio.sleep(0.05)


async def login(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> dict[str, str]:
    """Bearer headers for a demo account."""
    response = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def issue(client: httpx.AsyncClient, service: str = "hukou", **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/halls/demo/tickets", json={"service": service, **body}, headers=KIOSK
    )
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    port: int

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    db_url: str,
    var_dir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    """``window-service serve`` in a subprocess, waited for until /healthz answers."""
    port = port or free_port()
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_SECRET_KEY": "test-secret-key-not-for-production",
        "WINDOW_SERVICE_AUDIT_KEY": AUDIT_KEY,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        **(extra_env or {}),
    }
    log = open(var_dir / f"server-{port}.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "window_service",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, env, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {(var_dir / f'server-{port}.log').read_text()[-2000:]}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop(kill=True)
    raise RuntimeError("server did not start in time")


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(db_url, tmp_path)
    yield server
    server.stop()
