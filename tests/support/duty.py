"""Putting demo staff on duty at their windows without a call (for the estimate's tests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from window_service.auth.models import User
from window_service.halls.models import Hall, Window, WindowDuty
from window_service.queue import outlook


async def on_duty(app: Any, *numbers: int) -> None:
    """Staff w{n} signed in at window n (as their first call would record it)."""
    db = app.state.core.db
    async with db.write() as session:
        hall = (await session.execute(select(Hall).where(Hall.code == "demo"))).scalar_one()  # type: ignore[arg-type]
        for n in numbers:
            window = (
                await session.execute(
                    select(Window).where(Window.hall_id == hall.id, Window.number == n)  # type: ignore[arg-type]
                )
            ).scalar_one()
            user = (
                await session.execute(select(User).where(User.username == f"w{n}"))  # type: ignore[arg-type]
            ).scalar_one()
            session.add(WindowDuty(window_id=window.id, staff_id=user.id))
        await session.commit()
    assert hall.id is not None
    outlook.forget(db, hall.id)
