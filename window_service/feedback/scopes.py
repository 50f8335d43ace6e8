"""Who may call the feedback domain's office routes, and on what (see ``api/scope.py``)."""

from __future__ import annotations

from ..api.scope import HALL, Scope
from ..auth.roles import ADMIN, HEAD, INSPECTOR

#: The office: inspectors (效能办), administrators and department heads.
OFFICE = (INSPECTOR, ADMIN, HEAD)

#: The scopes of the office's routes: a rating or work order of the caller's hall, and of a
#: head's own departments; an appeal of the caller's hall; a hall's lists, a head's part of them.
RATING = Scope("department", "评价", "rating")
RECTIFICATION = Scope("department", "整改工单", "rectification")
APPEAL = Scope("hall", "申诉", "appeal")
HALL_LISTS = HALL.at("department")
