"""The hall's 预约规则 and a service's slot settings, as the administrator sets them."""

from __future__ import annotations

from datetime import time
from typing import Any

from ..chain import snapshot
from ..halls.models import Service
from ..transaction import Tx
from .models import AppointmentPolicy, ServiceAppointment


async def set_policy(
    tx: Tx, hall_id: int, values: dict[str, Any], opens: time, closes: time
) -> AppointmentPolicy:
    """The hall's booking rules set to ``values`` and the opening hours (audited)."""
    policy = await tx.session.get(AppointmentPolicy, hall_id)
    before = snapshot(policy) if policy is not None else None
    if policy is None:
        policy = AppointmentPolicy(hall_id=hall_id)
        tx.session.add(policy)
    for key, value in values.items():
        setattr(policy, key, value)
    policy.opens, policy.closes, policy.updated_at = opens, closes, tx.now
    await tx.session.flush()
    tx.audit("appointment_policy.update", policy, before=before)
    return policy


async def set_service(
    tx: Tx, svc: Service, *, enabled: bool, slot_minutes: int, capacity: int | None
) -> ServiceAppointment:
    """A service's booking switch, slot length and capacity (None: from its windows)."""
    assert svc.id is not None
    row = await tx.session.get(ServiceAppointment, svc.id)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = ServiceAppointment(service_id=svc.id)
        tx.session.add(row)
    row.enabled, row.slot_minutes, row.capacity = enabled, slot_minutes, capacity
    row.updated_at = tx.now
    await tx.session.flush()
    tx.audit("service_appointment.update", row, before=before)
    return row
