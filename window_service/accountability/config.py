"""A hall's accountability settings (效能参数): what the office may change, with defaults.

Stored as versions (``AccountabilityConfig``); every change is audited and the version in force
is recorded with each star-rating computation. Defaults follow the domain page:

- feedback points 10/8/6/3/0 (潮州细则), rating allowed within 5 working days (山东);
- a rectification (整改) is due 5 working days after the bad rating;
- bursts: 5 five-star ratings from one address or one evaluator pad within 10 minutes;
- the evaluator pad offers the rating for 60 s after a finish, whatever the window does next;
- inspections below 80 (of 100) issue an inspection notice due in 5 working days;
- star weights 40/30/20/10 over four components (see ``ratings.compute``), shrinkage k = 10,
  star thresholds 90/80/70/60;
- minimum evidence for a star (样本不足 below it): ≥ 30 finished services and ≥ 10 ratings, or
  ≥ 1 inspection of the subject's own;
- a period is published only once its appeal window of 5 working days after its end has passed;
- a formal warning (效能告诫) is proposed for 3 substantiated 差评, 2 failed inspections or 2
  一次性告知 breaches of one person or department in a quarter.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Hall
from ..transaction import Tx
from .models import AccountabilityConfig

COMPONENTS = ("satisfaction", "inspection", "time_limit", "conduct")
COMPONENT_LABELS = {
    "satisfaction": "群众满意度",
    "inspection": "暗访得分",
    "time_limit": "按时办结",
    "conduct": "服务规范 (首问/一次性告知/等候时限)",
    "evaluation": "民主测评",
}


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: float = Field(default=40, ge=0, le=100)
    inspection: float = Field(default=30, ge=0, le=100)
    time_limit: float = Field(default=20, ge=0, le=100)
    conduct: float = Field(default=10, ge=0, le=100)
    #: 民主测评: a department's place in the quarter's democratic evaluation (departments only;
    #: 0 by default, so stars are as before until the office gives it a weight).
    evaluation: float = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one weight must be positive")
        return self


class Settings(BaseModel):
    """The settings; unknown keys are refused, so a typo cannot silently do nothing."""

    model_config = ConfigDict(extra="forbid")

    #: Feedback points per rating level (1..5).
    points: dict[str, float] = Field(
        default_factory=lambda: {"5": 10.0, "4": 8.0, "3": 6.0, "2": 3.0, "1": 0.0}
    )
    rate_within_days: int = Field(default=5, ge=1, le=60)
    comment_max_chars: int = Field(default=500, ge=0, le=2000)
    burst_count: int = Field(default=5, ge=2, le=1000)
    burst_minutes: int = Field(default=10, ge=1, le=1440)
    rectification_days: int = Field(default=5, ge=1, le=30)
    inspection_threshold: float = Field(default=80, ge=0, le=100)
    notice_days: int = Field(default=5, ge=1, le=30)
    weights: Weights = Field(default_factory=Weights)
    #: Star thresholds for ★5, ★4, ★3, ★2 (descending); below the last: ★1.
    thresholds: list[float] = Field(default_factory=lambda: [90.0, 80.0, 70.0, 60.0])
    #: Shrinkage strength: a component with n samples counts as (n·mean + k·hall)/(n + k).
    shrink_k: float = Field(default=10, ge=0, le=10000)
    #: The prior a component is shrunk toward is the hall mean, capped at this (100: no cap).
    prior_cap: float = Field(default=80, ge=0, le=100)
    #: Conduct: points deducted per first-responder or 一次性告知 breach.
    breach_penalty: float = Field(default=10, ge=0, le=100)
    #: How long the window's evaluator pad keeps offering the rating after a finish, even
    #: when the window calls the next citizen at once (评价器保留评价时长, seconds).
    pad_rating_seconds: int = Field(default=60, ge=10, le=900)
    #: Minimum evidence for a star: this many finished services *and* ``min_ratings`` ratings …
    min_services: int = Field(default=30, ge=0, le=100000)
    min_ratings: int = Field(default=10, ge=0, le=100000)
    #: … or this many inspections (暗访) of the subject's own.
    min_inspections: int = Field(default=1, ge=1, le=1000)
    #: Working days after a period's end during which appeals (申诉) are still decided; the
    #: period is published only after them.
    appeal_window_days: int = Field(default=5, ge=0, le=60)
    #: 效能告诫: a quarter with this many substantiated 差评, failed inspections or 一次性告知
    #: breaches of one staff member or department proposes a formal warning to the office.
    warn_bad_ratings: int = Field(default=3, ge=1, le=1000)
    warn_failed_inspections: int = Field(default=2, ge=1, le=1000)
    warn_notice_breaches: int = Field(default=2, ge=1, le=1000)

    @field_validator("points")
    @classmethod
    def _points(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"1", "2", "3", "4", "5"}:
            raise ValueError("points needs exactly the levels 1..5")
        if any(not 0 <= v <= 10 for v in value.values()):
            raise ValueError("points must be between 0 and 10")
        if [value[str(i)] for i in range(1, 6)] != sorted(value[str(i)] for i in range(1, 6)):
            raise ValueError("points must not decrease with the rating")
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        if len(value) != 4 or any(not 0 <= v <= 100 for v in value):
            raise ValueError("thresholds are four scores 0..100 for ★5, ★4, ★3, ★2")
        if value != sorted(value, reverse=True):
            raise ValueError("thresholds must be descending")
        return value

    def points_for(self, rating: int) -> float:
        return float(self.points[str(rating)])

    def stars_for(self, score: float) -> int:
        for stars, threshold in zip((5, 4, 3, 2), self.thresholds, strict=True):
            if score >= threshold:
                return stars
        return 1


async def lock_hall(session: AsyncSession, hall_id: int) -> None:
    """Take the hall row's lock (PostgreSQL), ordering writers that number versions per hall."""
    # FOR NO KEY UPDATE: one at a time still, without blocking other transactions'
    # foreign-key checks on the hall row (their audit/event inserts, made while they
    # hold the hall ledger lock) — FOR UPDATE deadlocked with them under load.
    await session.execute(select(Hall.id).where(Hall.id == hall_id).with_for_update(key_share=True))  # type: ignore[call-overload]


async def current(session: AsyncSession, hall_id: int) -> tuple[Settings, int]:
    """The settings in force and their version (0: the defaults, never changed)."""
    row = (
        await session.execute(
            select(AccountabilityConfig)
            .where(AccountabilityConfig.hall_id == hall_id)  # type: ignore[arg-type]
            .order_by(AccountabilityConfig.version.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        return Settings(), 0
    return Settings.model_validate(row.data), row.version


async def change(tx: Tx, changes: dict[str, Any], user_id: int | None) -> tuple[Settings, int]:
    """Apply ``changes`` (a partial settings object) as a new version; audited."""
    await lock_hall(tx.session, tx.hall_id)
    old, version = await current(tx.session, tx.hall_id)
    merged = old.model_dump()
    for key, value in changes.items():
        if key == "weights" and isinstance(value, dict):
            merged["weights"] = {**merged["weights"], **value}
        else:
            merged[key] = value
    new = Settings.model_validate(merged)
    row = AccountabilityConfig(
        hall_id=tx.hall_id,
        version=version + 1,
        data=new.model_dump(mode="json"),
        created_at=tx.now,
        created_by_id=user_id,
    )
    tx.session.add(row)
    await tx.session.flush()
    tx.audit("config.accountability", row, before={"version": version, **old.model_dump()})
    return new, row.version
