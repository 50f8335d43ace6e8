"""Shared by the region tests: a region office's account (区域效能办) over the demo hall."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.support.client import login
from window_service.db import utcnow
from window_service.halls.models import Hall
from window_service.regions.service import add_region, add_region_user, assign_hall
from window_service.transaction import Actor, Tx

REGION_PASSWORD = "Granite-Heron-73"
DEMO_REGION = "610102"


async def region_office(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    """Bearer headers of ``region-office``, bound to region 610102 (新城区) that holds the
    demo hall; the account has no hall of its own."""
    async with app.state.core.db.write() as session:
        region = await add_region(session, code=DEMO_REGION, name="新城区")
        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        assert hall.id is not None
        tx = Tx(session, hall.id, utcnow(), Actor("test"))
        await assign_hall(tx, hall, region)
        await tx.commit()
        await add_region_user(
            session,
            region=region,
            username="region-office",
            password=REGION_PASSWORD,
            now=utcnow(),
            actor=Actor("test"),
        )
    return await login(client, "region-office", REGION_PASSWORD)
