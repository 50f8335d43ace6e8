"""The server's HTTP protocol sends each response in one write (window_service/http_protocol)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from tests.conftest import start_server
from window_service.cli import _http_protocol
from window_service.http_protocol import PROTOCOL, CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.paused = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.paused = True


async def test_what_is_written_in_one_turn_leaves_in_one_write() -> None:
    raw = FakeTransport()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    head = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n"
    transport.write(head)
    transport.write(b"{}")
    transport.write(b"")
    assert raw.writes == [] and transport.get_write_buffer_size() == len(head) + 2
    await asyncio.sleep(0)
    assert raw.writes == [head + b"{}"]

    # the next turn's writes are the next write; close() sends what is pending first
    transport.write(b"a")
    transport.writelines([b"b", bytearray(b"c")])
    transport.close()
    assert raw.writes[1:] == [b"abc"] and raw.closed
    await asyncio.sleep(0)  # the turn's flush finds nothing left
    assert len(raw.writes) == 2

    # everything else is the transport's own; abort drops what is pending
    transport = CoalescingTransport(FakeTransport(), asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.pause_reading()
    assert transport.raw.paused  # type: ignore[attr-defined]
    transport.write(b"lost")
    transport.abort()
    await asyncio.sleep(0)
    assert transport.raw.writes == [] and transport.raw.aborted  # type: ignore[attr-defined]


def test_serve_uses_it() -> None:
    assert _http_protocol() == PROTOCOL


async def test_pipelined_requests_on_one_connection_get_whole_answers_in_order(
    db_url: str, tmp_path: Path
) -> None:
    server = start_server(db_url, tmp_path)
    try:
        answers = await asyncio.to_thread(_two_pipelined_requests, server.port)
    finally:
        server.stop()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 404 Not Found",
    ]
    assert answers[0].endswith(b'{"status":"ok"}')
    assert b'"code":"not_found"' in answers[1]


def _two_pipelined_requests(port: int) -> list[bytes]:
    request = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((request.format("/healthz") + request.format("/api/v1/nope")).encode())
        data = b""
        answers: list[bytes] = []
        while len(answers) < 2:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
            while b"\r\n\r\n" in data:
                head, rest = data.split(b"\r\n\r\n", 1)
                length = _content_length(head)
                if len(rest) < length:
                    break
                answers.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
        return answers


def _content_length(head: bytes) -> Any:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(head)
