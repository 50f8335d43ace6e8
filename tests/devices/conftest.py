"""Fixtures of the device pages' browser tests: the big halls and a live server on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.big_halls import seed_big_halls
from tests.support.browser import SHOTS
from tests.support.dbs import sqlite_copy
from tests.support.server import start_server


@pytest.fixture(scope="session", name="big_halls_url")
async def big_halls_url_fixture(templates: dict[str, Any]) -> AsyncIterator[str]:
    """A demo database with the county hall and the 40-queue hall added, seeded once per run
    (it takes half a minute): each test module works on a copy of it."""
    template = templates["sqlite"]
    url: str = await template.fresh()
    await seed_big_halls(url)
    yield url
    await template.drop(url)


@pytest.fixture(scope="module", name="halls_url")
def halls_url_fixture(big_halls_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh copy of the big halls' database for one test module (in pytest's own temporary
    folder, which pytest cleans up)."""
    return sqlite_copy(big_halls_url, tmp_path_factory.mktemp("big_halls"))


@pytest.fixture(scope="module", name="base")
async def base_fixture(
    halls_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A live server on that database (one per test module: seeding the halls takes a while)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    server = start_server(halls_url, tmp_path_factory.mktemp("halls"))
    try:
        yield server.url
    finally:
        server.stop()
