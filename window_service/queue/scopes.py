"""The scope of routes that act on one ticket (see ``api/scope.py``)."""

from __future__ import annotations

from ..api.scope import Scope

#: A ticket of the caller's hall; ``TICKET.at("window")``: and, for staff, one at their window.
TICKET = Scope("hall", "号票", "ticket")
