"""What the ratings, settings and notice-board API takes and returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..api.schemas import Input, Output, Query


class RatingsQuery(Query):
    period: str | None = Field(default=None, max_length=8, description="YYYY-MM or YYYY-Qn")
    subject: Literal["window", "staff", "department"] = "window"


class RatingOut(Output):
    subject: str
    key: str
    name: str
    stars: int
    score: float
    rank: int
    components: dict[str, float | None]
    samples: dict[str, int]
    raw: dict[str, float | None]
    hall_means: dict[str, float | None]
    period: str
    published: bool
    published_at: str | None
    #: The version of the accountability settings the row was computed with (0: defaults).
    config_version: int = 0


class PublishIn(Input):
    period: str = Field(min_length=7, max_length=8)


class PublicationOut(Output):
    period: str
    period_label: str
    published_at: str
    published_by: str | None
    rows: int
    complete: bool
    config_version: int
    settings: dict[str, Any]


class ConfigOut(Output):
    version: int
    settings: dict[str, Any]


class ConfigIn(Input):
    """A partial change of the settings; see ``ratings.config.Settings``."""

    points: dict[str, float] | None = None
    rate_within_days: int | None = None
    comment_max_chars: int | None = None
    burst_count: int | None = None
    burst_minutes: int | None = None
    rectification_days: int | None = None
    inspection_threshold: float | None = None
    notice_days: int | None = None
    weights: dict[str, float] | None = None
    thresholds: list[float] | None = None
    shrink_k: float | None = None
    prior_cap: float | None = None
    breach_penalty: float | None = None
    reason: str = Field(default="", max_length=500)


class BoardPersonOut(Output):
    username: str
    name: str
    staff_no: str
    initials: str
    photo_url: str | None
    window: int | None
    on_duty: bool
    stars: int | None
    score: float | None


class BoardWindowOut(Output):
    number: int
    name: str
    stars: int | None
    score: float | None


class BoardServiceOut(Output):
    code: str
    name: str
    department: str
    legal_days: int
    promised_days: int
    fees: str
    materials: str
    guide: str
    #: 设定依据 (service guide)
    legal_basis: str = ""


class BoardOut(Output):
    hall: str
    hall_name: str
    period: str | None
    period_label: str | None
    published_at: str | None
    staff: list[BoardPersonOut]
    windows: list[BoardWindowOut]
    red: list[BoardPersonOut]
    black: list[BoardPersonOut]
    services: list[BoardServiceOut]
    satisfaction_rate: float | None
    callback_rate: float | None
