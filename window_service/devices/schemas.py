"""What the devices' endpoints return."""

from __future__ import annotations

from ..api.schemas import Output
from ..queue.schemas import TicketOut


class StaffOut(Output):
    username: str
    display_name: str
    staff_no: str
    #: 工作人员照片 (as halls post them), when the hall has one on this server
    photo_url: str | None = None


class LastFinishedOut(Output):
    """The window's last finished ticket today, for the evaluator pad (评价器).

    ``ticket`` is null while the window has finished nothing today. Its ``track_token`` and
    ``track_url`` (the rating QR) are given to the window's pad only, never to staff.
    """

    ticket: TicketOut | None
    window: int
    window_name: str
    staff: StaffOut | None
    finished_at: str | None
    seconds_since_finished: int | None
    #: How long after the finish the pad keeps offering the rating (评价保留时长), even when
    #: the window calls the next citizen (the hall's ``pad_rating_seconds``, default 60).
    rating_seconds: int
    #: Who is on duty at the window now (在岗, set when they call): the pad's idle screen.
    on_duty: StaffOut | None = None
