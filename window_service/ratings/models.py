"""Tables of published star ratings (星级评定)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class RatingPublication(SQLModel, table=True):
    """A published (frozen) rating period of a hall, e.g. 2026-11 or 2026-Q4.

    Never changed. A proven error is corrected (更正) by a new version of the period, with
    its reason, that supersedes the earlier one publicly; the earlier one stays visible.
    """

    __tablename__ = "rating_publication"

    __table_args__ = (
        UniqueConstraint(
            "hall_id", "period", "version", name="uq_rating_publication_hall_id_period_version"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    period: str = Field(max_length=8)
    #: 1 for the first publication, 2… for each correction (更正).
    version: int = 1
    #: Why this version corrects the one before (empty for the first).
    correction_reason: str = Field(default="", max_length=1000)
    published_at: datetime = Field(sa_type=TZDateTime)
    published_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: The settings the rows were computed with (weights, thresholds, k …).
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class RatingRow(SQLModel, table=True):
    """One frozen star rating: a window, staff member or department in a published period."""

    __tablename__ = "rating_row"

    __table_args__ = (UniqueConstraint("publication_id", "subject", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="rating_publication.id", index=True)
    subject: str = Field(max_length=16)
    key: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    #: None: the subject lacks the minimum evidence (样本不足, see ``reason``).
    stars: int | None = None
    score: float | None = None
    rank: int = 0
    reason: str = Field(default="", max_length=200)
    components: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    samples: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: What could put the subject on the black list: substantiated 差评, failed inspections,
    #: breaches in the period.
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
