"""Configuration from the environment (pydantic-settings), prefix ``WINDOW_SERVICE_``."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WINDOW_SERVICE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/window_service.db"
    secret_key: str = ""
    #: The hall's audit key (审计密钥): keys the audit chain's HMAC. Kept apart from the
    #: database (an insider who can write the database must not hold it). Given here, or in
    #: ``audit_key_file``; else generated once into ``var/audit_key``.
    audit_key: str = ""
    audit_key_file: Path | None = None
    #: The chain's head is anchored at least this often while records are written (minutes).
    audit_anchor_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    #: Append-only file of the anchors (one line each) an operator ships elsewhere; default
    #: ``var/audit_anchors.jsonl``.
    audit_anchor_file: Path | None = None
    timezone: str = "Asia/Shanghai"
    #: Where generated files live (secret key, uploads, the SQLite database by default).
    var_dir: Path = VAR_DIR
    #: Public base URL printed on tickets (QR codes); empty: the request's host when it is in
    #: ``allowed_hosts``, else the address the server was reached at (see security.py).
    public_url: str = ""
    #: Host names (comma-separated) whose ``Host`` header may start absolute links.
    allowed_hosts: str = "localhost,127.0.0.1,::1"
    #: Proxies (comma-separated addresses, or ``*``) whose X-Forwarded-For/-Proto headers are
    #: believed; empty: nobody's.
    trusted_proxies: str = ""
    #: Bearer tokens expire after this many seconds (default 12 hours: one working day).
    token_max_age: int = 12 * 3600
    #: A display client whose queue grows past this many events is told to resync.
    ws_client_queue: int = 1000
    ws_heartbeat_seconds: float = 15.0
    #: How long housekeeping (expiring tickets of past business days) sleeps between rounds.
    housekeeping_seconds: float = 60.0
    max_body_bytes: int = 64 * 1024
    max_upload_bytes: int = 5 * 1024 * 1024
    #: Evidence photos with more pixels are refused (decompression bombs): 40 megapixels.
    max_photo_pixels: int = Field(default=40_000_000, ge=1)
    #: Log SQL statements (debugging only).
    echo_sql: bool = False
    #: Pool size per process for PostgreSQL.
    pool_size: int = Field(default=10, ge=1, le=200)
    #: Cases: yellow warning (黄牌预警) when this many working days or fewer are left.
    case_yellow_working_days: int = Field(default=1, ge=0, le=30)
    #: Immediate cases (即办件): yellow this many minutes before the hall's closing time.
    case_immediate_yellow_minutes: int = Field(default=60, ge=0, le=24 * 60)
    #: Citizens' names and phone numbers (cases, consultations, callback contacts, bookings)
    #: are erased this many years after the matter ended (个人信息保护法; default 3).
    personal_data_years: int = Field(default=3, ge=1, le=30)
    #: The outside 好差评 platform: every rating and rectification step is POSTed here
    #: (through the outbox). Empty: nothing leaves the hall.
    platform_url: str = ""
    #: Key of the HMAC-SHA256 signature over each body (header ``X-Signature-256``).
    platform_secret: str = ""
    platform_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    #: Back-off after a failed delivery: first wait, doubled each attempt, up to the cap.
    platform_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    platform_retry_max_seconds: float = Field(default=600.0, gt=0, le=86400)
    #: How often the delivery loop looks for new messages.
    platform_poll_seconds: float = Field(default=2.0, gt=0, le=3600)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def allowed_host_names(self) -> frozenset[str]:
        return frozenset(
            h.strip().lower().strip("[]") for h in self.allowed_hosts.split(",") if h.strip()
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once into ``var/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def resolved_audit_key(self, *, create: bool = True) -> bytes | None:
        """The audit key: ``WINDOW_SERVICE_AUDIT_KEY``, else the key file
        (``WINDOW_SERVICE_AUDIT_KEY_FILE``, default ``var/audit_key``), generated there once
        when ``create`` (``serve``, ``migrate``); None when there is none and not ``create``."""
        if self.audit_key:
            return self.audit_key.encode("utf-8")
        path = self.audit_key_file or self.var_dir / "audit_key"
        if path.exists():
            key = path.read_text().strip()
            if not key:
                raise ValueError(f"audit key file {path} is empty")
            return key.encode("utf-8")
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created readable by its owner only, and never overwritten.
        try:
            with path.open("x") as f:
                path.chmod(0o600)
                f.write(key)
        except FileExistsError:  # another process made it first
            return path.read_text().strip().encode("utf-8")
        return key.encode("utf-8")

    def resolved_anchor_file(self) -> Path:
        return self.audit_anchor_file or self.var_dir / "audit_anchors.jsonl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
