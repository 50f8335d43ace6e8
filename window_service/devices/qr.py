"""QR codes (SVG) for the links printed on tickets and shown on the evaluator pad.

Only this server's own citizen links are encoded: the ticket tracking/rating page
``/t/<token>`` and the case lookup page (``/lookup…`` or ``/cases/lookup…``). Anything else is
refused, so the public ``/qr.svg`` cannot be used to brand arbitrary links with the hall's
name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.svg

MAX_DATA = 512
_TRACK_PATH = re.compile(r"^/t/[A-Za-z0-9_-]{8,64}$")
_LOOKUP_PATH = re.compile(r"^/(cases/)?lookup/?$")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def allowed(data: str, own_bases: list[str]) -> bool:
    """Whether ``data`` is one of this server's ticket or case-lookup links."""
    if not data or len(data) > MAX_DATA or any(ord(c) < 33 or ord(c) > 126 for c in data):
        return False
    parts = urlsplit(data)
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return False
    if _origin(data) not in {_origin(base) for base in own_bases if base}:
        return False
    if _TRACK_PATH.match(parts.path):
        return not parts.query and not parts.fragment
    return bool(_LOOKUP_PATH.match(parts.path)) and not parts.fragment


def svg(data: str) -> str:
    """The QR code of ``data`` as a standalone SVG document (scales to its box)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(data)
    code.make(fit=True)
    text: str = code.make_image().to_string(encoding="unicode")
    # let the page size it: drop the fixed millimetre size, keep the viewBox
    return re.sub(r'^<svg width="[^"]*" height="[^"]*"', "<svg", text, count=1)
