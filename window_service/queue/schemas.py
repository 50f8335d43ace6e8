"""What the queue API takes and returns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
    service: str = Field(min_length=1, max_length=32)


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
