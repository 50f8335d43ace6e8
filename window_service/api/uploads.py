"""Reading one uploaded file (multipart/form-data) within the upload size limit."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from .dates import ascii_int
from .endpoint import ApiRequest
from .errors import ApiError, invalid

#: What the multipart framing around the file may add to the limit in Content-Length.
FRAMING_BYTES = 16 * 1024


async def read_upload(api: ApiRequest[Any, Any], field: str, *, what: str, missing: str) -> bytes:
    """The bytes of the form's ``field``: 413 over ``max_upload_bytes`` (``what``: the
    Chinese name of the file in the message), 415 not multipart, 422 malformed, missing
    (``{field}_required`` with ``missing``) or empty."""
    limit = api.state.settings.max_upload_bytes
    too_big = ApiError(
        413, "payload_too_large", f"{what}过大，不超过 {limit // 1024} KB (at most {limit} bytes)"
    )
    length = api.request.headers.get("content-length")
    if length is not None and ((size := ascii_int(length)) is None or size > limit + FRAMING_BYTES):
        raise too_big
    if not api.request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"请以 multipart/form-data 上传{what} (multipart expected)",
        )
    try:
        form = await api.request.form(max_files=1, max_fields=4, max_part_size=limit + 1)
    except Exception as exc:  # malformed multipart bodies
        raise invalid("invalid_upload", "上传内容无效 (malformed upload)") from exc
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise invalid(f"{field}_required", missing)
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise too_big
        if not data:
            raise invalid("empty_upload", "上传的文件为空 (empty file)")
        return data
    finally:
        await form.close()
