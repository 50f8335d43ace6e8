"""The LED board client against a live server: terminal lines, window filter, resume."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

from displays.led import LedClient, SerialBoard, TerminalBoard, call_line
from tests.support.client import KIOSK, login
from tests.support.realtime import Served, serve
from tests.support.server import free_port
from tests.support.settings import ROOT


async def take_and_call(s: Served, service: str, window: int, user: str) -> None:
    r = await s.http.post("/api/v1/halls/demo/tickets", json={"service": service}, headers=KIOSK)
    assert r.status_code == 201, r.text
    headers = await login(s.http, user)
    r = await s.http.post(f"/api/v1/windows/{window}/call-next", headers=headers)
    assert r.status_code == 200, r.text


async def wait_for_lines(out: io.StringIO, count: int) -> list[str]:
    for _ in range(300):
        lines = out.getvalue().splitlines()
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"board shows only {out.getvalue()!r}")


async def test_led_command_prints_calls_of_its_window(db_url: str, tmp_path: Path) -> None:
    async with serve(db_url, tmp_path) as s:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "displays.led",
            "--url",
            s.ws_url,
            "--window",
            "3",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            for _ in range(200):  # until the client is connected
                if s.state.hub.client_count():
                    break
                await asyncio.sleep(0.05)
            await take_and_call(s, "hukou", 1, "w1")  # another window: not shown
            await take_and_call(s, "budongchan", 3, "w3")
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 15)
            assert line.decode().strip() == "B001 → 3号窗口"
        finally:
            process.terminate()
            await process.wait()


async def test_led_client_resumes_after_the_server_restarts(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    out = io.StringIO()
    client = LedClient(
        f"ws://127.0.0.1:{port}/ws/halls/demo/display", TerminalBoard(out), window=None
    )
    runner = None
    try:
        async with serve(db_url, tmp_path, port=port) as s:
            runner = asyncio.ensure_future(client.run(min_delay=0.05, max_delay=0.2))
            await take_and_call(s, "hukou", 1, "w1")
            assert await wait_for_lines(out, 1) == ["A001 → 1号窗口"]
        # The hall's server is down; calls go on through another process.
        async with serve(db_url, tmp_path) as other:
            await take_and_call(other, "budongchan", 3, "w3")
            w3 = await login(other.http, "w3")
            assert (
                await other.http.post("/api/v1/windows/3/recall", headers=w3)
            ).status_code == 200
        async with serve(db_url, tmp_path, port=port):
            lines = await wait_for_lines(out, 3)
        assert lines == ["A001 → 1号窗口", "B001 → 3号窗口", "B001 → 3号窗口 (重呼)"]
        assert client.connects >= 2
    finally:
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


def test_board_lines_and_serial_encoding() -> None:
    client = LedClient("ws://x/ws/halls/demo/display", TerminalBoard(io.StringIO()), window=2)
    assert client.lines_for({"type": "call", "seq": 5, "ticket": "A003", "window": 1}) == []
    assert client.lines_for(
        {"type": "call", "seq": 6, "ticket": "A004", "window": 2, "recall": True}
    ) == ["A004 → 2号窗口 (重呼)"]
    assert client.lines_for({"type": "window", "seq": 7, "window": 2, "status": "paused"}) == [
        "2号窗口 暂停服务"
    ]
    client.last_seq = 7
    assert client.resume_url() == "ws://x/ws/halls/demo/display?after=7"
    board = SerialBoard.__new__(SerialBoard)
    board.encoding, board.line_end = "gb2312", b"\r\n"
    assert board.encode(call_line("A001", 3)) == "A001 → 3号窗口".encode("gb2312") + b"\r\n"
