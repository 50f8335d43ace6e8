"""What the feedback, appeal and rectification API takes and returns."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from ..api.dates import Day, MonthOrQuarter
from ..api.schemas import Input, Output, Query
from ..queue.schemas import TicketOut

_PHONE = re.compile(r"^[0-9+\- ]{5,32}$")


class FeedbackIn(Input):
    rating: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    tags: list[str] = Field(default_factory=list, max_length=8)
    comment: str = Field(default="", max_length=2000)
    #: Optional phone number for the callback (回访) of a bad rating.
    contact: str = Field(default="", max_length=32)
    #: The rating page's random id of the citizen's browser (bursts are judged per device
    #: and channel, never per network address); ignored for evaluator pads.
    device: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")

    @field_validator("contact")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not _PHONE.match(value):
            raise ValueError("contact must be a phone number")
        return value


class EntryIn(Input):
    """登记 of a rating from another channel (GB/T 39734-2020), against exactly one subject:
    a ticket (``ticket`` with its ``day``), a case (``receipt_no``), a window, a staff member
    or a department."""

    channel: Literal["hotline_12345", "suggestion_box", "supervisor", "onsite_review"]
    rating: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field(min_length=1, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=8)
    contact: str = Field(default="", max_length=32)
    #: The channel's own reference: the 12345 work-order number, the box slip's number …
    reference: str = Field(default="", max_length=64)
    ticket: str | None = Field(default=None, min_length=2, max_length=8)
    day: Day | None = None
    receipt_no: str | None = Field(default=None, min_length=4, max_length=32)
    window: int | None = Field(default=None, ge=1, le=9999)
    staff: str | None = Field(default=None, min_length=1, max_length=64)
    department: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("contact")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not _PHONE.match(value):
            raise ValueError("contact must be a phone number")
        return value


class LevelOut(Output):
    rating: int
    label: str
    points: float


class RatedOut(Output):
    id: int
    ticket: str
    rating: int
    label: str
    tags: list[str]
    comment: str
    created_at: str


class FeedbackStateOut(Output):
    ticket: str
    can_rate: bool
    reason: str | None
    message: str
    deadline: str | None
    levels: list[LevelOut]
    tags: list[str]
    comment_max_chars: int
    feedback: RatedOut | None


class FeedbackOut(Output):
    id: int
    ticket: str
    window: int | None
    staff: str | None
    service: str
    department: str
    rating: int
    label: str
    points: float
    tags: list[str]
    comment: str
    #: Whether the citizen left a phone for the callback; the number itself only through
    #: ``POST /rectifications/{id}/contact`` (each view in the audit record).
    has_contact: bool = False
    channel: str
    #: The channel's name (扫码评价, 评价器, 12345热线 …) and, for the office's entries, the
    #: channel's own reference and the case concerned.
    channel_label: str = ""
    reference: str = ""
    created_at: str
    flagged: bool
    flag_reason: str
    #: A flagged rating is held out of every figure until the office reviews it:
    #: "pending", "confirmed" or "voided" (None: not flagged).
    review: str | None = None
    review_reason: str = ""
    voided: bool
    void_reason: str
    rectification: int | None = None
    appeal: str | None = None


class FeedbackQuery(Query):
    flagged: bool | None = None
    bad: bool | None = None
    voided: bool | None = None
    period: MonthOrQuarter | None = None
    limit: int = Field(default=200, ge=1, le=1000)


class FlaggedQuery(Query):
    status: Literal["pending", "reviewed", "all"] = "pending"


class ReviewIn(Input):
    """效能办复核: confirm a flagged rating (it counts again) or void it, with the reason."""

    decision: Literal["confirm", "void"]
    reason: str = Field(min_length=2, max_length=1000)


class AppealIn(Input):
    reason: str = Field(min_length=2, max_length=1000)


class AppealDecisionIn(Input):
    accept: bool
    reason: str = Field(min_length=2, max_length=1000)


class AppealOut(Output):
    id: int
    feedback: int
    ticket: str
    rating: int
    reason: str
    status: str
    filed_by: str
    filed_at: str
    decided_by: str | None
    decided_at: str | None
    decision_reason: str


class AppealQuery(Query):
    status: Literal["pending", "accepted", "rejected", "all"] = "pending"


class RectificationQuery(Query):
    status: Literal["open", "closed", "voided", "all"] = "open"
    overdue: bool | None = None


class RectificationOut(Output):
    id: int
    kind: str
    ticket: str | None
    window: int | None
    rating: int | None
    rating_label: str | None
    due: str
    status: str
    status_label: str
    stage: str
    stage_label: str
    overdue: bool
    department: str
    department_name: str
    staff: str | None
    #: 姓名（工号）of the staff member concerned, as the office pages name them.
    staff_label: str = ""
    opened_at: str
    inspection: int | None
    feedback: int | None = None
    comment: str = ""
    tags: list[str] = Field(default_factory=list)
    #: Whether the citizen left a phone for the callback (回访); the number itself only
    #: through ``POST /rectifications/{id}/contact``, each view in the audit record.
    has_contact: bool = False
    finding: str
    substantiated: bool | None
    #: The class at 核实 and its name (立行立改, 限期整改, 解释说明, 误评/恶意); "" before.
    category: str = ""
    category_label: str = ""
    measures: str
    callback_reached: bool | None
    citizen_view: str | None
    callback_note: str
    closed_at: str | None


class VerifyIn(Input):
    """核实: what the head found, and the class of the complaint (GB/T 39734-2020 §9):
    ``immediate`` 立行立改, ``deadline`` 限期整改, ``explain`` 解释说明, ``mistaken`` 误评/恶意
    (files an appeal; only the office voids). Without a class, ``substantiated`` true means
    限期整改 and false 解释说明."""

    finding: str = Field(min_length=2, max_length=2000)
    substantiated: bool | None = None
    category: Literal["immediate", "deadline", "explain", "mistaken"] | None = None


class FixIn(Input):
    measures: str = Field(min_length=2, max_length=2000)


class CallbackIn(Input):
    reached: bool
    citizen_view: Literal["satisfied", "basically_satisfied", "unsatisfied"] | None = None
    note: str = Field(default="", max_length=2000)


class FiguresQuery(Query):
    period: MonthOrQuarter | None = None


class FeedbackFiguresOut(Output):
    period: str
    ratings: int
    average: float | None
    satisfaction_rate: float | None
    bad_ratings: int
    called_back: int
    callback_rate: float | None


#: The ticket as the citizen sees it on their phone, and whether it can be rated now.
class TrackedTicketOut(TicketOut):
    hall: str
    hall_name: str
    can_rate: bool


class ContactOut(Output):
    """The callback phone of a rectification's rating (回访), shown once per request."""

    contact: str
    rectification: int


class ObservationIn(Input):
    """特邀监督员反映: an invited supervisor's observation against exactly one subject: a
    window, a staff member by 工号 (``staff_no``), a department, a ticket (``ticket`` with its
    ``day``) or a case (``receipt_no``)."""

    rating: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field(min_length=1, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=8)
    ticket: str | None = Field(default=None, min_length=2, max_length=8)
    day: Day | None = None
    receipt_no: str | None = Field(default=None, min_length=4, max_length=32)
    window: int | None = Field(default=None, ge=1, le=9999)
    #: 工号 of a window's staff member, as worn at the window (亮证上岗).
    staff_no: str | None = Field(default=None, min_length=1, max_length=32)
    department: str | None = Field(default=None, min_length=1, max_length=32)


class ObservationOut(Output):
    id: int
    rating: int
    label: str
    comment: str
    department: str
    department_name: str
    window: int | None
    #: The 工号 of the staff member the observation named (None: it named no one).
    staff_no: str | None = None
    created_at: str
    #: The rectification a 差评 opened, and how far it is (None: no rectification).
    rectification: int | None
    stage: str | None
    stage_label: str | None
    status_label: str | None
    due: str | None
    measures: str
