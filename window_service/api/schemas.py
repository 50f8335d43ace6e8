"""Base classes for request bodies: strict about unknown fields and hostile strings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Input(BaseModel):
    """A request body or query. Unknown fields are refused; NUL characters are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class Output(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


class Query(Input):
    """Query parameters: unknown ones (cache busters, tracking) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
