"""What a person checks on every device page in the browser tests: it fits its screen, it
says nothing in English (on a Chinese page), and the console stays clean (no error, no CSP
violation)."""

from __future__ import annotations

import re
from typing import Any

#: Latin words on a Chinese page; ticket numbers (A001, ZB003) and "QR" are fine.
ENGLISH = re.compile(r"\b(?!QR\b)[A-Za-z]{2,}\b(?!\d)")


def watch(page: Any) -> list[str]:
    """Console errors, page errors and CSP violations of ``page``, as they happen."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def overflow(page: Any) -> dict[str, int]:
    """The document's scroll size against the viewport (nothing cut off, nothing to scroll)."""
    size: dict[str, int] = await page.evaluate(
        """() => ({
            width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
            viewWidth: window.innerWidth, viewHeight: window.innerHeight,
        })"""
    )
    return size


async def assert_fits(page: Any, *, height: bool = True) -> None:
    """Nothing to scroll sideways (and, unless ``height=False``, nothing below the screen)."""
    size = await overflow(page)
    assert size["width"] <= size["viewWidth"], size
    if height:
        assert size["height"] <= size["viewHeight"], size


async def english_words(page: Any) -> list[str]:
    text = await page.evaluate("() => document.body.innerText")
    return ENGLISH.findall(text)


async def on_first_screen(page: Any, selector: str) -> bool:
    """Visible and wholly inside the viewport (no scrolling needed to see or tap it)."""
    box = await page.locator(selector).bounding_box()
    view = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= view["width"]
        and box["y"] + box["height"] <= view["height"]
    )
