"""Headless Chromium for the browser tests: where it is, how it starts, how to wait on a page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.support.settings import ROOT

#: Where the browser tests leave their screenshots (linked from the README).
SHOTS = ROOT / "docs" / "screenshots"
#: Debian's Chromium, headless, with nothing reaching for the (closed) network.
CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def wait_until(page: Any, expression: str, seconds: float = 10.0) -> None:
    """Wait until a JavaScript expression is truthy on a page that keeps its real CSP.

    Playwright's ``wait_for_function`` re-evaluates a string with ``eval`` from the page's own
    timers, which the pages' ``script-src 'self'`` rightly refuses, so it works only when the
    first look already succeeds. Polling from here goes through the DevTools protocol instead.
    """
    deadline = asyncio.get_running_loop().time() + seconds
    while not await page.evaluate(f"() => Boolean({expression})"):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {seconds:g} s: {expression}")
        await asyncio.sleep(0.05)
