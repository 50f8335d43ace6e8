"""The small interface to an outside SMS/WeChat gateway, its HTTP adapter and a fake.

Nothing here is needed to run a hall: without ``WINDOW_SERVICE_NOTIFY_URL`` no gateway exists,
no number is kept and nothing is sent (the tracking page's own alerts need none of it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ..config import Settings


class Gateway(Protocol):
    """Sends one text message to one phone; raises on failure (the caller logs it)."""

    async def send(self, phone: str, text: str) -> None: ...


class HttpGateway:
    """POSTs ``{"phone", "text"}`` as JSON to the configured URL (an SMS or WeChat relay the
    hall runs or rents). With a secret, the body's HMAC-SHA256 goes in ``X-Signature-256``
    (``sha256=<hex>``), as the 好差评 platform's deliveries do. Any answer but 2xx fails."""

    def __init__(
        self,
        url: str,
        secret: str = "",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.transport = transport

    async def send(self, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.secret:
            digest = hmac.new(self.secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers["X-Signature-256"] = f"sha256={digest}"
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            response = await client.post(self.url, content=body, headers=headers)
        response.raise_for_status()


@dataclass
class FakeGateway:
    """For tests: remembers what it was asked to send; ``fail`` makes every send raise."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    async def send(self, phone: str, text: str) -> None:
        if self.fail:
            raise RuntimeError("gateway down")
        self.sent.append((phone, text))


def configured_gateway(settings: Settings) -> Gateway | None:
    """The gateway the settings configure, or None (the default: nothing leaves the hall)."""
    if not settings.notify_url:
        return None
    return HttpGateway(settings.notify_url, settings.notify_secret, settings.notify_timeout_seconds)
