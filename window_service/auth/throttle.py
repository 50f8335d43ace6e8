"""Slowing down password guessing: too many failed sign-ins for one account from one address.

After ``limit`` failures within ``window`` seconds, further attempts for that account from that
address are refused (429) until the oldest failure is older than the window. A success clears
the count. Kept per process (a guesser spread over several processes gets a few more tries);
the audit record and the server logs keep the rest.
"""

from __future__ import annotations

import time
from collections import deque


class LoginThrottle:
    def __init__(self, limit: int = 10, window: float = 15 * 60) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def blocked_for(self, username: str, address: str) -> float:
        """Seconds until the next attempt is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        failures = self._recent((username, address), now)
        if len(failures) < self.limit:
            return 0.0
        return max(1.0, failures[0] + self.window - now)

    def failed(self, username: str, address: str) -> None:
        if len(self._failures) > 100_000:  # never grow without bound under a spray
            self._failures.clear()
        self._failures.setdefault((username, address), deque()).append(time.monotonic())

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop((username, address), None)
