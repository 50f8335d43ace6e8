"""暗访照片: the evidence photos of visits, stored content-addressed under var/uploads/inspections
(decoded, checked and re-encoded first: ``photos.clean_photo``), listed per visit, and checked
against their rows by ``audit verify`` (``verify_photos``, registered in ``models.py``)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import ApiError, invalid
from ..audit.verify_chain import Breach
from ..audit.verify_rows import photo_file_problem
from ..transaction import Tx
from .models import Inspection, InspectionPhoto
from .photos import MAX_PIXELS, BadImage, NotAnImage, clean_photo


def _store(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        temp = target.with_suffix(target.suffix + ".part")
        temp.write_bytes(data)
        temp.replace(target)


async def add_photo(
    tx: Tx,
    inspection: Inspection,
    data: bytes,
    *,
    var_dir: Path,
    user_id: int,
    max_pixels: int = MAX_PIXELS,
) -> InspectionPhoto:
    """Store an evidence photo under var/uploads/inspections (content-addressed): decoded,
    checked and re-encoded first (``photos.clean_photo``); its SHA-256 is the stored file's."""
    try:
        clean = await asyncio.to_thread(clean_photo, data, max_pixels=max_pixels)
    except NotAnImage:
        raise ApiError(
            415, "unsupported_media_type", "只接受 JPEG、PNG 或 WebP 图片 (JPEG, PNG or WebP only)"
        ) from None
    except BadImage:
        raise invalid(
            "invalid_image",
            f"图片无法解码或像素过多（不超过{max_pixels // 1_000_000}百万像素）"
            f"(the image does not decode, or has more than {max_pixels} pixels)",
        ) from None
    stored = clean.data
    digest = hashlib.sha256(stored).hexdigest()
    relative = Path("uploads") / "inspections" / f"{digest}{clean.suffix}"
    target = var_dir / relative
    await asyncio.to_thread(_store, target, stored)
    photo = InspectionPhoto(
        inspection_id=inspection.id,  # type: ignore[arg-type]
        content_type=clean.content_type,
        size=len(stored),
        sha256=digest,
        path=str(relative),
        uploaded_at=tx.now,
        uploaded_by_id=user_id,
    )
    tx.session.add(photo)
    await tx.session.flush()
    tx.audit("inspection.photo", photo)
    return photo


async def photos_by_inspection(
    session: AsyncSession, inspection_ids: list[int]
) -> dict[int, list[InspectionPhoto]]:
    """The evidence photos of some visits, in upload order (for the office's thumbnails)."""
    out: dict[int, list[InspectionPhoto]] = {i: [] for i in inspection_ids}
    if inspection_ids:
        rows = await session.execute(
            select(InspectionPhoto)
            .where(col(InspectionPhoto.inspection_id).in_(inspection_ids))
            .order_by(col(InspectionPhoto.id))
        )
        for photo in rows.scalars():
            out[photo.inspection_id].append(photo)
    return out


async def verify_photos(session: AsyncSession, var_dir: Path) -> Breach | None:
    """``audit verify``'s check of the photos: every file under ``var_dir`` still has the
    SHA-256 its row records (the first one that does not, or None)."""
    rows = await session.execute(
        select(InspectionPhoto.id, InspectionPhoto.path, InspectionPhoto.sha256, Inspection.hall_id)  # type: ignore[call-overload]
        .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
        .order_by(InspectionPhoto.id)
    )
    for photo_id, path, sha256, hall_id in rows:
        problem = photo_file_problem(var_dir, path, sha256)
        if problem is not None:
            return Breach(hall_id, None, None, problem, "inspection_photo", str(photo_id))
    return None
