"""The tables of the democratic evaluation (民主测评).

The office fixes a panel (测评团) per hall and year; its members (测评代表) are people of the
categories of the domain page, each either a supervisor's account or a personal ballot link
(its token kept only as a hash). Each quarter the office opens a round (测评轮次); every member
rates every department once on the six dimensions; the office closes the round and the
ranking is computed and published with it.

Anonymity (对部门匿名): who took part (``evaluation_participation``: member and round, the
office sees it) and what was given (``evaluation_score``) are kept apart. A score row names
its round, its department and a random ballot key drawn at voting, never the member, and has
no time or serial number that could be matched to the participation's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime

#: The categories of a panel's members (测评代表类别), Chinese source text.
CATEGORIES: Final = {
    "township": "乡镇领导",
    "investor": "投资者",
    "enterprise": "企业",
    "deputy": "人大代表",
    "cppcc": "政协委员",
    "supervisor": "监督员",
}
#: The six dimensions of the domain page (测评内容), in the order of the ballot.
DIMENSIONS: Final = {
    "lawful": "依法依规办事",
    "quality": "服务质量",
    "efficiency": "办事效率",
    "conduct": "工作作风",
    "command": "政令畅通",
    "integrity": "廉政勤政",
}
#: The marks a member gives per dimension, best first.
MARKS: Final = {100: "好", 80: "较好", 60: "一般", 40: "差"}


class EvaluationPanel(SQLModel, table=True):
    """测评团: the panel of a hall for a year."""

    __tablename__ = "evaluation_panel"
    __table_args__ = (UniqueConstraint("hall_id", "year", name="uq_evaluation_panel_year"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    year: int
    created_at: datetime = Field(sa_type=TZDateTime)


class EvaluationMember(SQLModel, table=True):
    """测评代表: a member of a year's panel, by category; a supervisor's account or a ballot
    link (``token_hash``: SHA-256 of the personal token, shown once to the office)."""

    __tablename__ = "evaluation_member"
    __table_args__ = (UniqueConstraint("panel_id", "user_id", name="uq_evaluation_member_user"),)

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="evaluation_panel.id", index=True)
    hall_id: int = Field(foreign_key="hall.id")
    name: str = Field(max_length=100)
    #: township · investor · enterprise · deputy · cppcc · supervisor
    category: str = Field(max_length=16)
    #: Where the member works or comes from (单位), as printed in the report's panel list.
    affiliation: str = Field(default="", max_length=200)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    active: bool = True
    created_at: datetime = Field(sa_type=TZDateTime)


class EvaluationRound(SQLModel, table=True):
    """测评轮次: one quarter's evaluation. ``open`` → ``closed`` (the ranking in ``results``,
    frozen and published)."""

    __tablename__ = "evaluation_round"
    __table_args__ = (UniqueConstraint("hall_id", "period", name="uq_evaluation_round_period"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    panel_id: int = Field(foreign_key="evaluation_panel.id")
    #: The quarter, ``YYYY-Qn``.
    period: str = Field(max_length=8)
    status: str = Field(default="open", max_length=16)
    opened_at: datetime = Field(sa_type=TZDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: The ranking computed at closing: ``{"ballots": n, "members": m, "rows": [...]}``.
    results: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class EvaluationParticipation(SQLModel, table=True):
    """Who has voted in a round (the office sees this, never what they gave)."""

    __tablename__ = "evaluation_participation"

    round_id: int = Field(foreign_key="evaluation_round.id", primary_key=True)
    member_id: int = Field(foreign_key="evaluation_member.id", primary_key=True)
    voted_at: datetime = Field(sa_type=TZDateTime)


class EvaluationScore(SQLModel, table=True):
    """One department's marks on one ballot: 0–100 per dimension; no member, no time."""

    __tablename__ = "evaluation_score"

    round_id: int = Field(foreign_key="evaluation_round.id", primary_key=True)
    #: Random, drawn when the ballot is cast; ties a ballot's rows together and nothing else.
    ballot: str = Field(max_length=32, primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    lawful: int
    quality: int
    efficiency: int
    conduct: int
    command: int
    integrity: int
