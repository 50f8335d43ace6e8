"""Shared fixtures: a fresh demo hall on SQLite and PostgreSQL, an app, clients, a live server.

Only fixtures live here; the helpers tests import are in ``tests/support/``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from tests.support.dbs import AUDIT_KEY, PostgresTemplate, SqliteTemplate, postgres_admin_url
from tests.support.server import LiveServer, start_server
from tests.support.settings import SHANGHAI, make_settings
from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.config import Settings

# Databases the tests open themselves (``create_database(url)``), the CLI run in-process and
# served subprocesses seal and verify with the test hall's audit key.
os.environ["WINDOW_SERVICE_AUDIT_KEY"] = AUDIT_KEY
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


@pytest.fixture
async def hall_app(settings: Settings, clock: FixedClock) -> AsyncIterator[Any]:
    """The demo hall's app at the hall clock the tests move (``clock``)."""
    application = create_app(settings, clock=clock, run_housekeeping=False)
    yield application
    await application.state.core.db.dispose()


@pytest.fixture
async def hc(hall_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``hall_app``."""
    transport = httpx.ASGITransport(app=hall_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c


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


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(db_url, tmp_path)
    yield server
    server.stop()
