"""Sign-in bodies and answers."""

from __future__ import annotations

from pydantic import Field

from ..api.schemas import Input, Output


class TokenRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(Output):
    username: str
    role: str
    display_name: str = ""
    window: int | None = None


class TokenOut(Output):
    access_token: str
    token_type: str = "bearer"
    user: UserOut
