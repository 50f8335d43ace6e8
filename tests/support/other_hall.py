"""A second hall (code ``other``) beside the demo, to show that halls are kept apart."""

from __future__ import annotations

from typing import Any

from window_service.auth.models import User
from window_service.auth.passwords import hash_password
from window_service.auth.principal import hash_device_key
from window_service.halls.models import Department, Device, Hall, Service, Window, WindowService

OTHER_KIOSK = {"X-Device-Key": "other-hall-kiosk-key-0123456789"}


OTHER_PASSWORD = "other-hall-pass-123"


async def add_other_hall(app: Any) -> None:
    """A second hall (code ``other``) with a kiosk, window 1 and its staff member ``o1``."""
    async with app.state.core.db.write() as session:
        hall = Hall(code="other", name="邻县政务服务中心", timezone="Asia/Shanghai")
        session.add(hall)
        await session.flush()
        dept = Department(hall_id=hall.id, code="gongan", name="邻县公安局")  # type: ignore[arg-type]
        session.add(dept)
        await session.flush()
        svc = Service(
            hall_id=hall.id, department_id=dept.id, code="hukou", name="户籍业务", prefix="A"
        )  # type: ignore[arg-type]
        window = Window(hall_id=hall.id, number=1)  # type: ignore[arg-type]
        session.add_all([svc, window])
        await session.flush()
        session.add(WindowService(window_id=window.id, service_id=svc.id))  # type: ignore[arg-type]
        session.add(
            Device(
                hall_id=hall.id,
                kind="kiosk",
                name="邻县取号机",
                key_hash=hash_device_key(OTHER_KIOSK["X-Device-Key"]),
            )
        )  # type: ignore[arg-type]
        session.add(
            User(
                hall_id=hall.id,
                username="o1",
                role="staff",
                window_id=window.id,
                password_hash=hash_password(OTHER_PASSWORD),
            )  # type: ignore[arg-type]
        )
        await session.commit()
