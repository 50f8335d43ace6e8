"""The appointment endpoints' answers: a booking as its owner or the hall sees it, the rules."""

from __future__ import annotations

from typing import Any

from ..api.endpoint import ApiRequest
from ..auth.service import client_address
from ..halls.lookup import local_time
from ..halls.models import Hall, Service
from . import citizens, service
from .models import Appointment, AppointmentPolicy
from .schemas import AppointmentOut, PolicyOut


def manage_url(api: ApiRequest[Any, Any], token: str) -> str:
    return f"{api.base_url().rstrip('/')}/book/manage/{token}"


def appointment_out(
    api: ApiRequest[Any, Any],
    hall: Hall,
    svc: Service,
    appointment: Appointment,
    *,
    owner: bool,
    ticket_number: str | None = None,
) -> AppointmentOut:
    """The booking as its owner (with the manage link) or the hall sees it."""
    start = local_time(hall, appointment.starts_at)
    end = local_time(hall, appointment.ends_at)
    return AppointmentOut(
        code=appointment.code,
        service=svc.code,
        service_name=svc.name,
        hall=hall.code,
        date=appointment.day.isoformat(),
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
        status=appointment.status,
        status_label=service.STATUS_LABELS.get(appointment.status, appointment.status),
        name=citizens.mask_name(appointment.name),
        phone=appointment.phone_masked,
        manage_token=appointment.manage_token if owner else None,
        manage_url=manage_url(api, appointment.manage_token) if owner else None,
        ticket=ticket_number,
    )


def policy_out(policy: AppointmentPolicy) -> PolicyOut:
    return PolicyOut(
        opens=policy.opens.strftime("%H:%M"),
        closes=policy.closes.strftime("%H:%M"),
        walk_in_percent=policy.walk_in_percent,
        early_minutes=policy.early_minutes,
        late_minutes=policy.late_minutes,
        no_show_limit=policy.no_show_limit,
        no_show_days=policy.no_show_days,
        block_days=policy.block_days,
        bookings_per_phone_hour=policy.bookings_per_phone_hour,
        bookings_per_address_hour=policy.bookings_per_address_hour,
        days_ahead=policy.days_ahead,
    )


def citizen_of(api: ApiRequest[Any, Any], name: str, phone: str) -> citizens.Citizen:
    """The caller as the service sees them: a name, the phone as digest and mask, the address."""
    digits = citizens.normalize_phone(phone)
    secret = api.state.settings.resolved_secret_key()
    return citizens.Citizen(
        name,
        citizens.phone_digest(secret, digits),
        citizens.mask_phone(digits),
        client_address(api.request),
    )
