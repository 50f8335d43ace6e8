"""The progress bar of ``audit verify``: drawn on a terminal, never into a pipe or a log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.dbs import AUDIT_KEY
from window_service.audit.progress import Progress
from window_service.audit.verify import verify_command


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_drawn_on_a_terminal() -> None:
    screen = _Terminal()
    progress = Progress(screen)
    progress.start("chain", 10)
    progress.advance(10)
    progress.finish()
    text = screen.getvalue()
    assert "核验 chain" in text and "100%" in text and "10/10" in text
    assert text.endswith("\n")


def test_nothing_is_drawn_when_not_a_terminal() -> None:
    piped = io.StringIO()
    progress = Progress(piped)
    progress.start("chain", 10)
    progress.advance(10)
    progress.finish()
    assert piped.getvalue() == ""


async def test_verify_piped_prints_only_its_verdict(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await verify_command(db_url, key=AUDIT_KEY.encode()) == 0
    out = capsys.readouterr().out
    assert "\r" not in out and "核验" not in out
    assert out.count("\n") == 1 and out.startswith("审计记录完整")


async def test_verify_on_a_terminal_shows_the_bar_then_its_verdict(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screen = _Terminal()
    assert await verify_command(db_url, key=AUDIT_KEY.encode(), progress=Progress(screen)) == 0
    assert "核验 chain" in screen.getvalue() and "核验 rows" in screen.getvalue()
    assert capsys.readouterr().out.startswith("审计记录完整")
