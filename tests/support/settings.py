"""Settings for a test app: the hall clock's zone, the repository root, ``make_settings``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.dbs import AUDIT_KEY
from window_service.config import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent.parent


def make_settings(db_url: str, var_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-not-for-production",
        audit_key=overrides.pop("audit_key", AUDIT_KEY),
        var_dir=var_dir,
        ws_heartbeat_seconds=overrides.pop("ws_heartbeat_seconds", 15.0),
        **overrides,
    )
