"""Evidence photos (取证照片): decoded, checked and re-encoded before they are stored.

An upload is never stored as sent. It must open as the image its first bytes claim (JPEG,
PNG or WebP), have at most ``MAX_PIXELS`` pixels (a header may claim 100000×100000: that is
refused before anything is decoded), and decode completely. What is stored is a new image
made from the decoded pixels only, so nothing else that was in the file (HTML or script
after the image data, EXIF with GPS position, comments, colour profiles) survives: JPEG
stays JPEG, PNG and WebP become PNG. The SHA-256 recorded for the photo is that of the
stored file, which serving and ``audit verify`` check.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

#: 40 megapixels: more than any phone camera takes; a decoded image is 3-4 bytes a pixel.
MAX_PIXELS = 40_000_000

#: The formats accepted, by their first bytes, with the Pillow format that must open them.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


class NotAnImage(Exception):
    """The content is none of the accepted image types (by its first bytes)."""


class BadImage(Exception):
    """The content claims to be an image but is not a sound one (or is too large)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    suffix: str
    width: int
    height: int


def claimed_format(data: bytes) -> str | None:
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def clean_photo(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CleanPhoto:
    """Decode ``data`` and re-encode its pixels (see the module docstring).

    Raises ``NotAnImage`` for content of no accepted type, ``BadImage`` for content that
    claims a type but does not decode, decodes to something else, or has too many pixels.
    CPU-bound: run it in a thread.
    """
    fmt = claimed_format(data)
    if fmt is None:
        raise NotAnImage
    try:
        with warnings.catch_warnings():
            # Pillow's own decompression-bomb warning is an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise BadImage(f"{width}×{height} pixels")
                image.load()  # the whole image decodes, or this raises
                upright = ImageOps.exif_transpose(image) or image
                return _encode(upright, fmt)
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("too many pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # UnidentifiedImageError is an OSError; truncated or corrupt data raise these.
        raise BadImage(str(exc)) from exc


def _encode(image: Image.Image, fmt: str) -> CleanPhoto:
    """A new file of the pixels alone (no metadata): JPEG for JPEG, PNG otherwise (of an
    animated image, its first frame)."""
    if fmt == "JPEG":
        mode = "L" if image.mode in ("1", "L") else "RGB"
    else:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        mode = "RGBA" if has_alpha else ("L" if image.mode in ("1", "L") else "RGB")
    pixels = image.convert(mode)
    # Built from the raw pixels: no EXIF, ICC profile, text chunk or comment comes along.
    bare = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        bare.save(out, format="JPEG", quality=90, optimize=True)
        content_type, suffix = "image/jpeg", ".jpg"
    else:
        bare.save(out, format="PNG", optimize=True)
        content_type, suffix = "image/png", ".png"
    return CleanPhoto(out.getvalue(), content_type, suffix, bare.width, bare.height)
