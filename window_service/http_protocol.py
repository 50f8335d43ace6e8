"""uvicorn's HTTP protocol, with each response sent in one piece.

uvicorn writes a response's status line and headers as soon as the application sends
``http.response.start`` and its body when it sends ``http.response.body``: two writes, each a
``send()`` system call and, on a socket, a TCP segment of its own. For the small JSON answers
of this API (a kiosk's ticket, a terminal's call) that doubled the cost of sending: with
bench/issue.py on 2 cores, ``transport.write`` was a tenth of the event loop's time.

Here the connection's transport is wrapped so that what is written within one turn of the
event loop goes out in one write at the end of that turn. A response's start and body are
sent in one turn (neither waits), so they leave together; a streamed or large response
still goes out as it is written, turn by turn. Everything else about the transport (flow
control, closing, the socket's addresses) is the transport's own, and a connection upgraded
to a websocket (a hall display) goes on with the transport itself.

``window-service serve`` uses it when uvicorn's httptools protocol is installed
(``uvicorn[standard]``), and uvicorn's default protocol otherwise.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: The name to pass as uvicorn's ``http`` setting.
PROTOCOL = "window_service.http_protocol:OneWriteHttpToolsProtocol"


class CoalescingTransport:
    """A transport whose writes within one turn of the event loop leave in one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for data in chunks:
            self.write(data)

    def flush(self) -> None:
        """Sends what was written so far (at the end of the turn, or before closing)."""
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # what was written before close() is sent, as a transport does
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    @property
    def raw(self) -> asyncio.Transport:
        return self._transport

    def __getattr__(self, name: str) -> Any:
        # is_closing, pause_reading, resume_reading, set_protocol, get_extra_info, ...
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)  # type: ignore[arg-type]

    def handle_websocket_upgrade(self) -> None:
        # A websocket (a hall display) writes through the socket's own transport, as before.
        transport = self.transport
        if isinstance(transport, CoalescingTransport):
            transport.flush()
            self.transport = transport.raw
        super().handle_websocket_upgrade()
