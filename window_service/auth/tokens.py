"""Signed bearer tokens (itsdangerous). A token names the user and their token version."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int


class TokenSigner:
    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="window-service-api-token")
        self._max_age = max_age

    def issue(self, user_id: int, version: int) -> str:
        return self._serializer.dumps({"u": user_id, "v": version})

    def read(self, token: str) -> TokenClaims | None:
        try:
            data = self._serializer.loads(token, max_age=self._max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user_id, version = data.get("u"), data.get("v")
        if not isinstance(user_id, int) or not isinstance(version, int):
            return None
        return TokenClaims(user_id, version)
