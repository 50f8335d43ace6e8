"""The appointment tests' hall: the app at the tests' FixedClock, and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from window_service.app import create_app
from window_service.clock import FixedClock
from window_service.config import Settings


@pytest.fixture
async def hall_app(settings: Settings, clock: FixedClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock, run_housekeeping=False)
    yield application
    await application.state.core.db.dispose()


@pytest.fixture
async def hc(hall_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hall_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
