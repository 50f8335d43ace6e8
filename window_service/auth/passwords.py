"""Passwords: hashing with Argon2 (pwdlib) and the policy a new password must meet.

The policy follows OWASP ASVS level 2 (V2.1): at least 8 characters, any characters, no
composition rules, and no password that is common or derived from the account's context.
"Common" is judged by zxcvbn (Dropbox's estimator; its lists hold the most used passwords,
names, words and keyboard patterns): a password it scores below 3 of 4 ("safely
unguessable") is refused. Context: the username, the person's name and staff number, the
hall's code and name are given to zxcvbn as the user's own words, and a password containing
any of them (two characters or more) is refused outright.
"""

from __future__ import annotations

from collections.abc import Iterable

from pwdlib import PasswordHash
from zxcvbn import zxcvbn

from ..api.errors import invalid

_hasher = PasswordHash.recommended()

MIN_PASSWORD_LENGTH = 8
#: zxcvbn's score (0–4) a password needs; 3: "safely unguessable" (10^8 guesses or more).
MIN_SCORE = 3
#: zxcvbn looks at this many characters (its time grows with the length).
_ANALYSED = 100


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


def _long_enough(word: str) -> bool:
    """Two characters are enough to be a username (``w1``) or a Chinese name."""
    return len(word) >= 2


def password_problem(password: str, context: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused ("中文 (English)"), or None when it may be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位 (password too short)"
    words = sorted({w.strip().lower() for w in context if w and w.strip()})
    lowered = password.lower()
    for word in words:
        if _long_enough(word) and word in lowered:
            return (
                "密码不能包含用户名、姓名或大厅名称 (password contains the username, name or hall)"
            )
    result = zxcvbn(password[:_ANALYSED], user_inputs=words)
    if result["score"] < MIN_SCORE:
        return (
            "密码太常见或太容易猜到，请换一个更长、更少见的密码 (password too common or guessable)"
        )
    return None


def check_password(password: str, context: Iterable[str] = ()) -> None:
    """Raise 422 ``weak_password`` unless ``password`` meets the policy (module docstring)."""
    problem = password_problem(password, context)
    if problem is not None:
        raise invalid("weak_password", problem)
