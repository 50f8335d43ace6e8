"""Who may see the office's case lists and figures (see ``api/scope.py``)."""

from __future__ import annotations

from ..api.scope import Scope
from ..auth.roles import ADMIN, HEAD, INSPECTOR

#: The office: administrators, inspectors (效能办) and department heads.
OFFICE = (ADMIN, INSPECTOR, HEAD)
#: The office's lists and figures: of the caller's hall, a head's of their departments.
OFFICE_LISTS = Scope("department", "办件", "case")
