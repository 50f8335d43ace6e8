"""The table of regions (行政区划): a tree of counties, cities and provinces, grouping halls.

The rules and the region office's figures are in ``window_service/regions/``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow

#: 省 · 市 · 县 (a district or county-level city counts as a county).
LEVELS = ("province", "city", "county")
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县"}


class Region(SQLModel, table=True):
    """区划: a province, city or county. Halls name theirs by ``Hall.region`` (its code), so a
    hall may be given its 行政区划 code (e.g. 610102) before the region row exists.

    ``parent_id`` makes the tree: a city's halls are those of the city itself and of every
    county under it.
    """

    __tablename__ = "region"

    id: int | None = Field(default=None, primary_key=True)
    #: e.g. the 6-digit 行政区划代码 610000 (陕西省), 610100 (西安市), 610102 (新城区).
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    level: str = Field(default="county", max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
