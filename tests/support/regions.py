"""Shared by the region tests: regions with halls and their offices' accounts (区域效能办)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.support.client import login
from window_service.admin.setup import create_hall
from window_service.db import create_database, utcnow
from window_service.halls.models import Hall
from window_service.regions.queries import region_by_code
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


async def make_regions(db_url: str, *, more_halls: int = 0) -> None:
    """陕西省 610000 ⊃ 西安市 610100 ⊃ 新城区 610102 (the demo hall); 西安市 itself holds 碑林
    (an empty hall); 铜川市 610200 holds 耀州 (another city). One office account per region
    (``xian-office``, ``xincheng-office``, ``tongchuan-office``). ``more_halls`` empty halls
    (乡镇便民服务中心) join 新城区."""
    db = create_database(db_url)
    try:
        async with db.write() as session:
            await add_region(session, code="610000", name="陕西省")
            await add_region(session, code="610100", name="西安市", parent="610000")
            await add_region(session, code="610102", name="新城区", parent="610100")
            await add_region(session, code="610200", name="铜川市", parent="610000")
            await session.commit()
        townships = [
            (f"town{n:02d}", f"第{n + 1}街道便民服务中心", "610102") for n in range(more_halls)
        ]
        for code, name, region in (
            ("beilin", "碑林区政务服务中心", "610100"),
            ("yaozhou", "耀州区政务服务中心", "610200"),
            *townships,
        ):
            async with db.write() as session:
                tx = Tx(session, 0, utcnow(), Actor("test"))
                await create_hall(tx, code=code, name=name, region=region)
                await tx.commit()
        async with db.write() as session:
            demo = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
            region = await region_by_code(session, "610102")
            assert demo.id is not None and region is not None
            tx = Tx(session, demo.id, utcnow(), Actor("test"))
            assert await assign_hall(tx, demo, region)
            await tx.commit()
        async with db.write() as session:
            for username, code in (
                ("xian-office", "610100"),
                ("xincheng-office", "610102"),
                ("tongchuan-office", "610200"),
            ):
                region = await region_by_code(session, code)
                assert region is not None
                await add_region_user(
                    session,
                    region=region,
                    username=username,
                    password=REGION_PASSWORD,
                    now=utcnow(),
                    actor=Actor("test"),
                )
    finally:
        await db.dispose()
