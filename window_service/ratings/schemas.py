"""What the ratings, settings and notice-board API takes and returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..api.dates import MonthOrQuarter
from ..api.schemas import Input, Output, Query


class RatingsQuery(Query):
    period: MonthOrQuarter | None = None
    subject: Literal["window", "staff", "department"] = "window"
    #: A published version of the period (a superseded one stays readable); default: in force.
    version: int | None = Field(default=None, ge=1, le=1000)


class RatingOut(Output):
    subject: str
    key: str
    name: str
    #: None with ``reason`` (样本不足) when the subject lacks the minimum evidence.
    stars: int | None
    score: float | None
    #: 0 for a subject without a star.
    rank: int
    reason: str | None
    #: Substantiated 差评, failed inspections and breaches in the period.
    evidence: dict[str, int]
    components: dict[str, float | None]
    samples: dict[str, int]
    raw: dict[str, float | None]
    hall_means: dict[str, float | None]
    period: str
    published: bool
    published_at: str | None
    #: The version of the accountability settings the row was computed with (0: defaults).
    config_version: int = 0
    #: The published version of the period (1, then 2… after corrections); None while live.
    version: int | None = None
    superseded: bool = False


class PublishIn(Input):
    period: MonthOrQuarter


class CorrectionIn(Input):
    """更正: why the published period is wrong (shown publicly with the correction)."""

    period: str = Field(min_length=7, max_length=8)
    reason: str = Field(min_length=2, max_length=1000)


class PublicationOut(Output):
    period: str
    period_label: str
    published_at: str
    published_by: str | None
    rows: int
    complete: bool
    config_version: int
    settings: dict[str, Any]
    version: int = 1
    #: Why this version corrects the one before (更正); empty for a first publication.
    correction_reason: str = ""
    #: A later correction supersedes this version (it stays visible).
    superseded: bool = False
    superseded_at: str | None = None


class ConfigOut(Output):
    version: int
    settings: dict[str, Any]


class ConfigIn(Input):
    """A partial change of the settings; see ``accountability.config.Settings``."""

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
    pad_rating_seconds: int | None = None
    min_services: int | None = None
    min_ratings: int | None = None
    min_inspections: int | None = None
    appeal_window_days: int | None = None
    warn_bad_ratings: int | None = None
    warn_failed_inspections: int | None = None
    warn_notice_breaches: int | None = None
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
    #: 样本不足 when published without a star.
    reason: str = ""


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
    #: The version in force; > 1 after a correction (更正), with its reason.
    version: int | None = None
    correction_reason: str = ""
    staff: list[BoardPersonOut]
    windows: list[BoardWindowOut]
    red: list[BoardPersonOut]
    black: list[BoardPersonOut]
    services: list[BoardServiceOut]
    satisfaction_rate: float | None
    callback_rate: float | None
