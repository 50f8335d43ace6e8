"""Helpers shared by the feedback, rectification, inspection and rating tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.support.client import KIOSK, issue, login
from tests.support.dbs import DEMO_PASSWORD
from window_service.auth.principal import hash_device_key
from window_service.db import create_database
from window_service.halls.models import Device, Hall, Window

EVALUATOR_KEY = "evaluator-test-key-window-1"


async def window_ids(client: httpx.AsyncClient) -> dict[int, int]:
    """window number → id."""
    windows = (await client.get("/api/v1/halls/demo/windows")).json()
    return {w["number"]: w["id"] for w in windows}


async def serve(
    client: httpx.AsyncClient,
    service: str = "hukou",
    window: int = 1,
    *,
    outcome: str = "completed",
    staff_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Issue a ticket and serve it to the end at ``window``; returns the kiosk's ticket."""
    ticket = await issue(client, service)
    headers = staff_headers or await login(client, f"w{window}")
    ids = await window_ids(client)
    called = await client.post(f"/api/v1/windows/{ids[window]}/call-next", headers=headers)
    assert called.status_code == 200, called.text
    assert called.json()["number"] == ticket["number"], called.text
    started = await client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=headers)
    assert started.status_code == 200, started.text
    finished = await client.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": outcome}, headers=headers
    )
    assert finished.status_code == 200, finished.text
    return ticket


async def add_evaluator(db_url: str, window_number: int, key: str = EVALUATOR_KEY) -> None:
    """An evaluator pad (评价器) bound to a window of the demo hall."""
    db = create_database(db_url)
    try:
        async with db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()
            window = (
                await session.execute(
                    select(Window).where(Window.hall_id == hall.id, Window.number == window_number)
                )
            ).scalar_one()
            session.add(
                Device(
                    hall_id=hall.id,
                    kind="evaluator",
                    name=f"{window_number}号窗口评价器",
                    key_hash=hash_device_key(key),
                    window_id=window.id,
                )
            )
            await session.commit()
    finally:
        await db.dispose()


async def rate(client: httpx.AsyncClient, token: str, rating: int, **body: Any) -> httpx.Response:
    headers = body.pop("headers", None)
    return await client.post(
        f"/api/v1/track/{token}/feedback", json={"rating": rating, **body}, headers=headers
    )


async def add_head(db_url: str, username: str, department_code: str) -> None:
    """A department head answering for one department only."""
    from tests.support.dbs import DEMO_PASSWORD
    from window_service.auth.models import UserDepartment
    from window_service.auth.service import add_user
    from window_service.db import utcnow
    from window_service.halls.models import Department
    from window_service.transaction import Actor, Tx

    db = create_database(db_url)
    try:
        async with db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()
            dept = (
                await session.execute(
                    select(Department).where(
                        Department.hall_id == hall.id, Department.code == department_code
                    )
                )
            ).scalar_one()
            tx = Tx(session, hall.id, utcnow(), Actor.system())
            user = await add_user(
                tx, hall_id=hall.id, username=username, role="head", password=DEMO_PASSWORD
            )
            await tx.commit()
            session.add(UserDepartment(user_id=user.id, department_id=dept.id))
            await session.commit()
    finally:
        await db.dispose()


async def bulk_ratings(
    db_url: str, window_number: int, ratings: list[int], at: Any, *, service_code: str | None = None
) -> None:
    """Many finished tickets of one window, each rated (inserted directly: fast and exact)."""
    import secrets

    from window_service.auth.models import User
    from window_service.feedback.models import Feedback
    from window_service.halls.models import Service, WindowService
    from window_service.queue.models import Ticket

    points = {5: 10.0, 4: 8.0, 3: 6.0, 2: 3.0, 1: 0.0}
    db = create_database(db_url)
    try:
        async with db.write() as session:
            hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()
            window = (
                await session.execute(
                    select(Window).where(Window.hall_id == hall.id, Window.number == window_number)
                )
            ).scalar_one()
            if service_code is None:
                service = (
                    await session.execute(
                        select(Service)
                        .join(WindowService, WindowService.service_id == Service.id)
                        .where(WindowService.window_id == window.id)
                        .order_by(WindowService.position)
                        .limit(1)
                    )
                ).scalar_one()
            else:
                service = (
                    await session.execute(select(Service).where(Service.code == service_code))
                ).scalar_one()
            staff = (
                await session.execute(select(User).where(User.window_id == window.id))
            ).scalar_one()
            prefix = "Z" + str(window_number)
            from sqlalchemy import func

            start = (
                await session.execute(select(func.count()).where(Ticket.prefix == prefix))
            ).scalar_one() + 1
            tickets = [
                Ticket(
                    hall_id=hall.id,
                    service_id=service.id,
                    original_service_id=service.id,
                    prefix=prefix,
                    seq_no=n,
                    number=f"{prefix}{n:03d}",
                    business_day=at.date(),
                    status="done",
                    queued_at=at,
                    called_at=at,
                    started_at=at,
                    finished_at=at,
                    window_id=window.id,
                    staff_id=staff.id,
                    first_responder_id=staff.id,
                    outcome="completed",
                    track_token=secrets.token_urlsafe(18),
                )
                for n in range(start, start + len(ratings))
            ]
            session.add_all(tickets)
            await session.flush()
            session.add_all(
                Feedback(
                    hall_id=hall.id,
                    ticket_id=ticket.id,
                    window_id=window.id,
                    staff_id=staff.id,
                    service_id=service.id,
                    department_id=service.department_id,
                    rating=rating,
                    points=points[rating],
                    created_at=at,
                    source_ip=f"10.0.{window_number}.{n % 250}",
                )
                for n, (ticket, rating) in enumerate(zip(tickets, ratings, strict=True))
            )
            await session.commit()
    finally:
        await db.dispose()


async def served_ticket(c: httpx.AsyncClient, window: int = 1) -> dict[str, Any]:
    ticket = (
        await c.post("/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    ).json()
    token = (
        await c.post(
            "/api/v1/auth/token", json={"username": f"w{window}", "password": DEMO_PASSWORD}
        )
    ).json()["access_token"]
    staff = {"Authorization": f"Bearer {token}"}
    windows = (await c.get("/api/v1/halls/demo/windows")).json()
    wid = next(w["id"] for w in windows if w["number"] == window)
    assert (await c.post(f"/api/v1/windows/{wid}/call-next", headers=staff)).status_code == 200
    assert (await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=staff)).status_code == 200
    finished = await c.post(
        f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "completed"}, headers=staff
    )
    assert finished.status_code == 200
    return dict(ticket)
