"""The scope of routes that act on one window (see ``api/scope.py``)."""

from __future__ import annotations

from ..api.scope import Owner, Scope

#: A window of the caller's hall and, for staff, their own window (一人一窗).
WINDOW = Scope(
    "window",
    "窗口",
    "window",
    owner=lambda window: Owner(window.hall_id, window_id=window.id),
    not_your_window="只能操作本人所在窗口 (not your window)",
)
