"""Where in a hall a route's rows must lie for its caller, declared on the route like its roles.

A route says ``scope=`` (a ``Scope``: hall, department or window, and what the row is); the
handler hands the row it loaded to ``ApiRequest.own`` and gets it back or the one refusal for
that level. The rule, its status, code and message are written here once:

- ``hall``: the row belongs to the caller's hall (403 ``forbidden``: "not of this hall");
- ``department``: and a department head's row is one of their departments
  (403 ``not_your_department``), their lists limited to them (``ApiRequest.departments``);
- ``window``: and the row of window staff (or of a device) is their window's
  (403 ``forbidden``: "not your window").

The package knows no domain: each domain declares its scopes, naming how a row tells its owner
(``owner``), e.g. a ticket by its ``hall_id`` and ``window_id``, a window by its ``id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from .errors import ApiError

if TYPE_CHECKING:
    from ..auth.principal import Principal

Level = Literal["hall", "department", "window"]


@dataclass(frozen=True)
class Owner:
    """The hall, department and window a row belongs to (None: not tied to one)."""

    hall_id: int | None
    department_id: int | None = None
    window_id: int | None = None


def owner_of(row: Any) -> Owner:
    """The owner of a row that names it in ``hall_id``, ``department_id``, ``window_id``."""
    return Owner(
        getattr(row, "hall_id", None),
        getattr(row, "department_id", None),
        getattr(row, "window_id", None),
    )


@dataclass(frozen=True)
class Scope:
    """A route's scope. ``noun`` names the row in the refusals, Chinese then English."""

    level: Level
    noun: str
    noun_en: str
    owner: Callable[[Any], Owner] = owner_of
    #: The window refusal, where the route's words say more than "not your window".
    not_your_window: str = ""

    def at(self, level: Level, *, not_your_window: str = "") -> Scope:
        """The same rows, held to another level."""
        return replace(self, level=level, not_your_window=not_your_window)

    def describe(self) -> str:
        """The scope in words, for the OpenAPI document."""
        what = f"the {self.noun_en}" if self.noun else "the hall"
        out = f"{what} must be of the caller's hall"
        if self.level == "department":
            out += "; a department head's, of their departments (lists: theirs only)"
        elif self.level == "window":
            out += "; window staff's (and a device's), of their window"
        return out + "."

    def departments(self, principal: Principal) -> frozenset[int] | None:
        """The departments a list in this scope is limited to for the caller (None: all)."""
        if self.level == "department" and principal.sees_own_departments_only:
            return principal.department_ids
        return None

    def check(self, principal: Principal, row: Any) -> None:
        owner = self.owner(row)
        if owner.hall_id is None or owner.hall_id != principal.hall_id:
            what = (
                f"的{self.noun} ({self.noun_en} of another hall)"
                if self.noun
                else " (another hall)"
            )
            raise ApiError(403, "forbidden", f"不是本大厅{what}")
        departments = self.departments(principal)
        tied = owner.department_id is not None  # a hall itself lies in each of its departments
        if tied and departments is not None and owner.department_id not in departments:
            raise ApiError(403, "not_your_department", "只能处理本部门的事项 (not your department)")
        if self.level == "window" and principal.bound_to_window:
            if principal.window_id is None or owner.window_id != principal.window_id:
                raise ApiError(
                    403,
                    "forbidden",
                    self.not_your_window
                    or f"不是本窗口的{self.noun} (not a {self.noun_en} of your window)",
                )


#: A hall row itself (``/halls/{hall}/…``): its id is its owner.
HALL = Scope("hall", "", "hall", owner=lambda hall: Owner(hall.id))
