"""Who books or takes a remote ticket: the phone and name as checked, masked and digested."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from ..api.errors import invalid

#: 中国大陆手机号.
PHONE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(phone: str) -> str:
    """The phone as 11 digits (spaces, dashes and a +86 prefix dropped), or 422."""
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not PHONE.match(digits):
        raise invalid("invalid_phone", "手机号码格式不正确 (not a mainland mobile number)")
    return digits


def phone_digest(secret: str, phone: str) -> str:
    """A keyed digest of the phone: enough to recognise it again, not to read it back."""
    return hmac.new(secret.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """张* / 欧阳** : the family name's first character, the rest hidden."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 50:
        raise invalid("invalid_name", "请填写姓名 (name is required, at most 50 characters)")
    return name


@dataclass(frozen=True)
class Citizen:
    """Who books: the phone's digest and mask, and the address the request came from."""

    name: str
    phone_digest: str
    phone_masked: str
    address: str
