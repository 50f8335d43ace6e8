"""What an HTTP client of ``window-service serve`` sees on one connection (uvicorn's own
protocol, configured through its public options in ``cli.py``): kept alive between requests,
pipelined requests answered whole and in order, an oversized body refused before it is sent."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import start_server

pytestmark = pytest.mark.slow  # real server processes, faults, fuzzing

REQUEST = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def test_one_connection_serves_request_after_request(db_url: str, tmp_path: Path) -> None:
    server = start_server(db_url, tmp_path)
    try:
        answers = await asyncio.to_thread(_one_after_another, server.port, 3)
    finally:
        server.stop()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
    assert all(b"connection: close" not in a.lower() for a in answers)


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


async def test_an_announced_oversized_body_is_refused_before_it_is_sent(
    db_url: str, tmp_path: Path
) -> None:
    server = start_server(db_url, tmp_path)
    try:
        answer = await asyncio.to_thread(_announce_big_body, server.port)
    finally:
        server.stop()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n", 1)[0] == b"HTTP/1.1 413 Request Entity Too Large"
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def _one_after_another(port: int, count: int) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        answers: list[bytes] = []
        data = b""
        for _ in range(count):
            sock.sendall(REQUEST.format("/healthz").encode())
            answer, data = _read_answers(sock, data, 1)
            answers += answer
        return answers


def _two_pipelined_requests(port: int) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((REQUEST.format("/healthz") + REQUEST.format("/api/v1/nope")).encode())
        return _read_answers(sock, b"", 2)[0]


def _announce_big_body(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        )
        return _read_answers(sock, b"", 1)[0][0]


def _read_answers(sock: socket.socket, data: bytes, count: int) -> tuple[list[bytes], bytes]:
    """``count`` whole answers (head and body), and what was read beyond them."""
    answers: list[bytes] = []
    while True:
        while b"\r\n\r\n" in data and len(answers) < count:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = _content_length(head)
            if len(rest) < length:
                break
            answers.append(head + b"\r\n\r\n" + rest[:length])
            data = rest[length:]
        if len(answers) == count:
            return answers, data
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk


def _content_length(head: bytes) -> Any:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(head)
