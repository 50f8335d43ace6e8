"""LED text board client (LED条屏/窗口屏): shows the hall's calls as short lines.

    python -m displays.led --url ws://127.0.0.1:8000/ws/halls/demo/display [--window 3]
    python -m displays.led --url ... --window 3 --serial /dev/ttyUSB0 --baud 9600 [--encoding gbk]

It follows the display websocket (see ``window_service/realtime/routes.py``): a line such as
``A001 → 3号窗口`` for every call (``(重呼)`` for a recall), the current ticket again after a
snapshot, and ``3号窗口 暂停服务`` / ``恢复服务`` for its window. Without ``--serial`` the lines
go to the terminal; with it they are written to the board's serial port, encoded GB2312 by
default (what most Chinese LED controllers expect; ``--encoding gbk``/``utf-8`` otherwise) and
ended by CR LF. Serial output needs pyserial: ``pip install 'window-service[led]'``.

The client reconnects by itself with back-off (0.5 s doubling to 30 s) and resumes with
``?after=<last seq>``, so no call is missed while the network was down; a socket that has been
silent for three heartbeats is treated as dead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
from collections.abc import Sequence
from typing import Any, Protocol, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

log = logging.getLogger("displays.led")

#: Reconnect when nothing (not even a heartbeat) arrived for this long.
SILENCE_SECONDS = 60.0


class Board(Protocol):
    async def show(self, line: str) -> None: ...

    def close(self) -> None: ...


class TerminalBoard:
    """Prints each line (the default, and for testing a board's text)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    async def show(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        pass


class SerialBoard:
    """Writes each line, encoded for the controller, to a serial port."""

    def __init__(self, port: str, baud: int, encoding: str, line_end: bytes = b"\r\n") -> None:
        try:
            import serial  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SystemExit(
                "串口输出需要 pyserial：pip install 'window-service[led]' "
                "(serial output needs pyserial)"
            ) from exc
        "".encode(encoding)  # unknown encodings fail now, not at the first call
        self.encoding = encoding
        self.line_end = line_end
        self.port = serial.Serial(port, baudrate=baud, timeout=2, write_timeout=5)

    def encode(self, line: str) -> bytes:
        return line.encode(self.encoding, errors="replace") + self.line_end

    async def show(self, line: str) -> None:
        data = self.encode(line)
        # At 9600 baud a line takes ~20 ms: keep the event loop (and the socket) free.
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()


def call_line(ticket: str, window: int, recall: bool = False) -> str:
    return f"{ticket} → {window}号窗口" + (" (重呼)" if recall else "")


class LedClient:
    """Turns the display stream into board lines; remembers where it is for resuming."""

    def __init__(self, url: str, board: Board, window: int | None = None) -> None:
        self.url = url
        self.board = board
        self.window = window
        self.last_seq: int | None = None
        self.last_line: str | None = None
        self.connects = 0

    def resume_url(self) -> str:
        if self.last_seq is None:
            return self.url
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "after"]
        query.append(("after", str(self.last_seq)))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def lines_for(self, message: dict[str, Any]) -> list[str]:
        kind = message.get("type")
        if kind == "call":
            if self.window is not None and message.get("window") != self.window:
                return []
            return [
                call_line(
                    str(message["ticket"]), int(message["window"]), bool(message.get("recall"))
                )
            ]
        if kind == "window" and self.window is not None and message.get("window") == self.window:
            status = message.get("status")
            if status == "paused":
                return [f"{self.window}号窗口 暂停服务"]
            if status == "open":
                return [f"{self.window}号窗口 恢复服务"]
            if status == "closed":
                return [f"{self.window}号窗口 停止服务"]
        if kind == "snapshot":
            return self._snapshot_lines(message)
        return []

    def _snapshot_lines(self, snapshot: dict[str, Any]) -> list[str]:
        """After (re)connecting without replay: what the board should show now."""
        if self.window is not None:
            for window in snapshot.get("windows", []):
                if window.get("number") != self.window:
                    continue
                if window.get("status") == "paused":
                    return [f"{self.window}号窗口 暂停服务"]
                current = window.get("current")
                if current and current.get("status") in ("called", "serving"):
                    return [call_line(str(current["ticket"]), self.window)]
            return []
        recent = snapshot.get("recent_calls") or []
        if recent:
            latest = recent[0]
            return [call_line(str(latest["ticket"]), int(latest["window"]))]
        return []

    async def handle(self, message: dict[str, Any]) -> bool:
        """Show what ``message`` means; False when the stream skipped an event (resume)."""
        kind = message.get("type")
        seq = message.get("seq")
        if not isinstance(seq, int):
            return True
        if kind == "heartbeat":
            return True
        if kind != "snapshot" and self.last_seq is not None:
            if seq <= self.last_seq:
                return True  # already shown
            if seq != self.last_seq + 1:
                return False
        for line in self.lines_for(message):
            if kind == "snapshot" and line == self.last_line:
                continue  # a resync showing what the board already shows
            self.last_line = line
            await self.board.show(line)
        self.last_seq = seq
        return True

    async def run_once(self, extra_headers: dict[str, str] | None = None) -> None:
        """One connection, until it closes or goes silent."""
        async with connect(
            self.resume_url(),
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            additional_headers=extra_headers,
        ) as ws:
            self.connects += 1
            log.info("已连接 (connected) %s", self.resume_url())
            while True:
                async with asyncio.timeout(SILENCE_SECONDS):
                    raw = await ws.recv()
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict) and not await self.handle(message):
                    return  # reconnect with ?after=last_seq

    async def run(
        self,
        *,
        extra_headers: dict[str, str] | None = None,
        min_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        delay = min_delay
        while True:
            try:
                await self.run_once(extra_headers)
                delay = min_delay
            except (OSError, TimeoutError, WebSocketException) as exc:
                if isinstance(exc, InvalidURI | InvalidHandshake) and self.connects == 0:
                    status = getattr(getattr(exc, "response", None), "status_code", None)
                    if status in (403, 404) or isinstance(exc, InvalidURI):
                        raise  # a wrong address will not fix itself
                log.warning("连接中断，%.1f 秒后重连 (disconnected: %s)", delay, exc)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, max_delay)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m displays.led", description="LED 条屏叫号客户端 (LED text board client)"
    )
    parser.add_argument("--url", required=True, help="ws://host:port/ws/halls/<hall>/display")
    parser.add_argument("--window", type=int, help="只显示本窗口 (only this window's calls)")
    parser.add_argument("--serial", help="串口 serial port, e.g. /dev/ttyUSB0 (default: terminal)")
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument(
        "--encoding", default="gb2312", help="串口编码 serial encoding (gb2312, gbk, utf-8)"
    )
    parser.add_argument("--device-key", help="显示设备密钥 (X-Device-Key), optional")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    if not args.url.startswith(("ws://", "wss://")):
        print("--url 应以 ws:// 或 wss:// 开头 (must start with ws:// or wss://)", file=sys.stderr)
        return 2
    board: Board
    if args.serial:
        try:
            board = SerialBoard(args.serial, args.baud, args.encoding)
        except LookupError:
            print(f"未知编码 (unknown encoding): {args.encoding}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"无法打开串口 (cannot open serial port): {exc}", file=sys.stderr)
            return 2
    else:
        board = TerminalBoard()
    client = LedClient(args.url, board, args.window)
    headers = {"X-Device-Key": args.device_key} if args.device_key else None
    try:
        asyncio.run(client.run(extra_headers=headers))
    except KeyboardInterrupt:
        return 0
    except (InvalidURI, InvalidHandshake) as exc:
        print(f"无法连接 (cannot connect): {exc}", file=sys.stderr)
        return 1
    finally:
        board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
