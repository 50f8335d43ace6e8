"""Requests and answers of the democratic evaluation (民主测评)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..api.dates import MonthOrQuarter
from ..api.schemas import Input, Output

Category = Literal["township", "investor", "enterprise", "deputy", "cppcc", "supervisor"]
Mark = Literal[100, 80, 60, 40]


class MemberIn(Input):
    """A member of the year's panel: a supervisor's account (``username``) or, without one, a
    person who gets a personal ballot link."""

    year: int = Field(ge=2000, le=2100)
    name: str = Field(min_length=1, max_length=100)
    category: Category
    affiliation: str = Field(default="", max_length=200)
    username: str | None = Field(default=None, min_length=1, max_length=64)


class MemberOut(Output):
    id: int
    year: int
    name: str
    category: str
    category_label: str
    affiliation: str
    username: str | None
    #: False once taken off the panel (移出测评团): no vote, the link stops working.
    active: bool = True
    #: The personal ballot link, only in the answer that made the member (shown once).
    ballot_url: str | None = None


class RoundIn(Input):
    period: MonthOrQuarter


class DimensionMarks(Input):
    lawful: Mark
    quality: Mark
    efficiency: Mark
    conduct: Mark
    command: Mark
    integrity: Mark


class BallotIn(Input):
    """Every department of the hall (by code) × the six dimensions."""

    marks: dict[str, DimensionMarks] = Field(max_length=500)


class RankOut(Output):
    rank: int
    department: str
    department_name: str
    means: dict[str, float]
    total: float


class RoundOut(Output):
    id: int
    period: str
    status: str
    opened_at: str
    closed_at: str | None
    members: int
    voted: int
    ballots: int
    ranking: list[RankOut]


class VoterOut(Output):
    """Who has voted (the office sees it, never what was given)."""

    member: int
    name: str
    category_label: str
    voted: bool


class RoundDetailOut(RoundOut):
    voters: list[VoterOut]


class BallotDepartment(Output):
    code: str
    name: str


class BallotOut(Output):
    """What a member's ballot shows: the round, the departments, the dimensions and marks."""

    hall: str
    period: str
    period_label: str
    open: bool
    voted: bool
    member: str
    departments: list[BallotDepartment]
    dimensions: dict[str, str]
    marks: dict[str, str]


class VotedOut(Output):
    period: str
    voted: bool
