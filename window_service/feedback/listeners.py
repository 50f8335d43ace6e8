"""Who hears of feedback's changes: a new rating (好差评) and each step of a rectification.

A domain above feedback that acts on them (the outbox to the 好差评 platform) is registered
in ``app.py``'s ``FEEDBACK_LISTENERS``, so feedback's rules import none of them. They run in
the rule's transaction, after the change and before its commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..transaction import Tx
from .models import Feedback, Rectification


@dataclass(frozen=True)
class FeedbackListener:
    """What to do for a new rating, and for a rectification's step (``change``: opened,
    verified, fixed, closed, voided)."""

    rating: Callable[[Tx, Feedback], Awaitable[None]]
    rectification: Callable[[Tx, Rectification, str], Awaitable[None]]


_listeners: tuple[FeedbackListener, ...] = ()


def listen(listeners: Sequence[FeedbackListener]) -> None:
    """The listeners every feedback change is told of from now on (``create_app`` sets them)."""
    global _listeners
    _listeners = tuple(listeners)


async def rated(tx: Tx, feedback: Feedback) -> None:
    for listener in _listeners:
        await listener.rating(tx, feedback)


async def rectification_changed(tx: Tx, rect: Rectification, *, change: str) -> None:
    for listener in _listeners:
        await listener.rectification(tx, rect, change)
