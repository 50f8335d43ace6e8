"""What the devices' endpoints return."""

from __future__ import annotations

from ..api.schemas import Output
from ..queue.schemas import TicketOut


class StaffOut(Output):
    username: str
    display_name: str
    staff_no: str


class LastFinishedOut(Output):
    """The window's last finished ticket today, for the evaluator pad (评价器)."""

    ticket: TicketOut
    window: int
    window_name: str
    staff: StaffOut | None
    finished_at: str
    seconds_since_finished: int
