"""A staff member's photo as the public pages may show it (工作人员照片)."""

from __future__ import annotations


def photo_url(photo: str) -> str | None:
    """The address of a staff photo a page can load, or None (then the page shows initials).

    Only this server's own files and absolute web addresses are addresses at all; anything
    else stored in the field (a bare file name, a note) is not shown.
    """
    if photo.startswith(("/", "https://", "http://")):
        return photo
    return None
