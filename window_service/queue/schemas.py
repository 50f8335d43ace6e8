"""What the queue API takes and returns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt, model_validator

from ..api.schemas import Input, Output

Priority = Literal["elderly", "disabled", "pregnant", "military"]
Outcome = Literal["completed", "accepted", "correction", "rejected", "consulted"]


class TicketCreate(Input):
    service: str = Field(min_length=1, max_length=32, description="service code, e.g. hukou")
    priority: Priority | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)


class FinishBody(Input):
    outcome: Outcome


class TransferBody(Input):
    """转移: exactly one of a service (by code), a window (by number) or a colleague (by
    username); the ticket keeps its number and queue time."""

    service: str | None = Field(default=None, min_length=1, max_length=32)
    window: StrictInt | None = Field(default=None, ge=1, le=9999, description="window number")
    staff: str | None = Field(default=None, min_length=1, max_length=64, description="username")

    @model_validator(mode="after")
    def _one_target(self) -> TransferBody:
        if sum(v is not None for v in (self.service, self.window, self.staff)) != 1:
            raise ValueError("give exactly one of service, window or staff")
        return self


class TicketOut(Output):
    id: int
    number: str
    service: str
    service_name: str
    status: str
    status_label: str
    priority: str | None
    queued_at: str
    ahead: int
    #: None: no window with staff on duty serves it now (「暂无窗口办理，请留意叫号」).
    estimated_wait_minutes: int | None
    window: int | None
    outcome: str | None = None
    called_at: str | None = None
    track_token: str | None = None
    track_url: str | None = None


class ServiceOut(Output):
    code: str
    name: str
    prefix: str
    department: str
    department_name: str
    #: The people ahead of a ticket taken now: waiting tickets of every service the windows
    #: serving this one also serve (``queue_waiting``: this service's own queue).
    waiting: int
    #: None: no window with staff on duty serves it now.
    estimated_wait_minutes: int | None
    queue_waiting: int = 0
    legal_days: int
    promised_days: int
    wait_target_minutes: int
    #: The service guide (办事指南): fee standard (收费标准), materials (申请材料) and the law it
    #: rests on (设定依据).
    fees: str = ""
    materials: list[str] = []
    legal_basis: str = ""


class CurrentTicketOut(Output):
    id: int
    number: str
    service: str
    status: str
    called_at: str | None


class WindowOut(Output):
    id: int
    number: int
    name: str
    services: list[str]
    status: str
    current: CurrentTicketOut | None
    staff: str | None = None


class TransferWindowOut(Output):
    """A window a ticket may be transferred to, with the colleague on duty there."""

    number: int
    name: str
    status: str
    services: list[str]
    staff: str | None
    staff_name: str | None


class TransferTargetsOut(Output):
    windows: list[TransferWindowOut]
