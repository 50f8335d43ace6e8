"""What a hall's row of the region comparison holds (区域比较), and the region's total row.

``HallFigures`` gathers what the grouped queries of ``comparison.py`` read for one hall and
gives it as the API shows it: tickets, waits (mean and p90 from a histogram in tenths of a
minute), case on-time rate, satisfaction and 差评, the published stars, rectifications.
``region_total`` sums the halls: counts added, the waits' histograms merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..halls.models import Hall
from ..halls.regions import Region
from ..ratings.models import RatingPublication

#: Points of a rating 5 … 1, as the hall statistics give them (stats.figures.POINTS).
POINTS = {5: 10.0, 4: 8.0, 3: 6.0, 2: 3.0, 1: 0.0}
#: Waits are counted in buckets of this many minutes for the p90.
BUCKET_MINUTES = 0.1
SUBJECTS = ("department", "window", "staff")


@dataclass
class HallFigures:
    hall: Hall
    region: str
    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    called: int = 0
    wait_total: float = 0.0
    #: bucket (tenths of a minute) → tickets
    wait_histogram: dict[int, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)
    cases: int = 0
    cases_on_time: int = 0
    cases_overdue: int = 0
    publication: RatingPublication | None = None
    stars: dict[str, dict[str, Any]] = field(default_factory=dict)
    rect_opened: int = 0
    rect_open: int = 0
    rect_overdue: int = 0

    def p90(self) -> float | None:
        if not self.called:
            return None
        rank = 0.9 * (self.called - 1)
        seen = 0
        for bucket in sorted(self.wait_histogram):
            seen += self.wait_histogram[bucket]
            if seen > rank:
                return round(bucket * BUCKET_MINUTES, 1)
        return round(max(self.wait_histogram) * BUCKET_MINUTES, 1)

    def as_dict(self) -> dict[str, Any]:
        rated = sum(self.ratings.values())
        bad = self.ratings.get(1, 0) + self.ratings.get(2, 0)
        points = sum(POINTS[r] * n for r, n in self.ratings.items() if r in POINTS)
        pub = self.publication
        return {
            "hall": self.hall.code,
            "name": self.hall.name,
            "region": self.region,
            "tickets": self.tickets,
            "served": self.served,
            "no_shows": self.no_shows,
            "wait_minutes": {
                "mean": round(self.wait_total / self.called, 1) if self.called else None,
                "p90": self.p90(),
            },
            "cases": self.cases,
            "cases_on_time": self.cases_on_time,
            "cases_overdue": self.cases_overdue,
            "case_on_time_rate": (
                round(self.cases_on_time / self.cases, 4) if self.cases else None
            ),
            "ratings": rated,
            "satisfaction": round(points / rated * 10, 1) if rated else None,
            "bad_ratings": bad,
            "bad_rate": round(bad / rated, 4) if rated else None,
            "stars": {
                "published": pub is not None,
                "version": pub.version if pub is not None else None,
                **{s: self.stars.get(s, {"mean": None, "rated": 0, "rows": 0}) for s in SUBJECTS},
            },
            "rectifications": {
                "opened": self.rect_opened,
                "open": self.rect_open,
                "overdue": self.rect_overdue,
            },
        }


def region_total(region: Region, halls: list[HallFigures]) -> HallFigures:
    """The region as a whole: counts summed, waits from the merged histograms."""
    out = HallFigures(Hall(code="", name=region.name), region.code)
    for f in halls:
        out.tickets += f.tickets
        out.served += f.served
        out.no_shows += f.no_shows
        out.called += f.called
        out.wait_total += f.wait_total
        for bucket, n in f.wait_histogram.items():
            out.wait_histogram[bucket] = out.wait_histogram.get(bucket, 0) + n
        for rating, n in f.ratings.items():
            out.ratings[rating] = out.ratings.get(rating, 0) + n
        out.cases += f.cases
        out.cases_on_time += f.cases_on_time
        out.cases_overdue += f.cases_overdue
        out.rect_opened += f.rect_opened
        out.rect_open += f.rect_open
        out.rect_overdue += f.rect_overdue
    return out
